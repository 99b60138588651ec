package io.berth.launcher.process;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.UploadId;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.retention.Retention;
import io.berth.core.retention.RetentionPolicy;
import io.berth.core.testing.Images;
import io.berth.proto.admin.v1.ListTagsRequest;
import io.berth.proto.admin.v1.ListTagsResponse;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * Figures for docs/benchmarks.md (never asserted): garbage collection over 10 000 manifests and
 * 50 000 blobs, a retention dry run over 10 000 tags, and listing a repository of 100 000 tags a
 * page at a time through the admin API and {@code /v2}. Run with
 * {@code bin/test -pl launcher -Dgroups=benchmark -Dberth.test.excluded-groups= -Dit.test=AdminBenchmark
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("benchmark")
class AdminBenchmark {
    static final int MANIFESTS = Integer.getInteger("berth.bench.manifests", 10_000);
    static final int LAYERS = 4; // with the config: 5 blobs per manifest
    static final int TAGS = Integer.getInteger("berth.bench.tags", 100_000);

    @TempDir
    Path dir;

    static String percentiles(List<Long> nanos) {
        long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return String.format(
                "p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d pages",
                s[s.length / 2] / 1e6,
                s[(int) Math.min(s.length - 1, s.length * 0.99)] / 1e6,
                s[s.length - 1] / 1e6,
                s.length);
    }

    static long heapPeakReset() {
        long peak = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                peak += p.getPeakUsage().getUsed();
                p.resetPeakUsage();
            }
        }
        return peak;
    }

    /** Blobs through the blob store and the metadata store, a thousand per transaction. */
    static List<BlobInfo> blobs(Registry r, RepositoryName repo, int count, String seed) throws Exception {
        List<BlobInfo> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] content = (seed + " " + i + " " + "x".repeat(i % 200)).getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
            UploadId id = UploadId.random();
            r.blobStore().createUpload(id);
            r.blobStore().append(id, 0, new ByteArrayInputStream(content));
            r.blobStore().commitUpload(id, d);
            out.add(new BlobInfo(d, content.length));
        }
        for (int from = 0; from < out.size(); from += 1000) {
            List<BlobInfo> batch = out.subList(from, Math.min(out.size(), from + 1000));
            r.metadata().inTransaction(tx -> {
                tx.repositories().ensure(repo);
                for (BlobInfo b : batch) {
                    tx.blobs().put(b.digest(), b.size());
                    tx.blobs().link(repo, b.digest());
                }
                return null;
            });
        }
        return out;
    }

    @Test
    void figures() throws Exception {
        Path data = dir.resolve("berth");
        RepositoryName app = RepositoryName.of("bench/app");
        RepositoryName many = RepositoryName.of("bench/many");
        try (Registry r = new Registry(
                new FilesystemBlobStore(data.resolve("data/blobs"), false),
                new SqliteMetadataStore(data.resolve("data/berth.db")),
                RegistryOptions.defaults())) {
            long t0 = System.nanoTime();
            List<BlobInfo> all = blobs(r, app, MANIFESTS * (LAYERS + 1), "blob");
            Images images = new Images(r);
            List<Digest> manifests = new ArrayList<>();
            for (int m = 0; m < MANIFESTS; m++) {
                BlobInfo config = all.get(m * (LAYERS + 1));
                List<BlobInfo> layers = all.subList(m * (LAYERS + 1) + 1, (m + 1) * (LAYERS + 1));
                manifests.add(
                        images.put(app, "t" + m, MediaTypes.OCI_MANIFEST, Images.imageManifest(config, layers, null)));
            }
            System.out.printf(
                    "ADMIN BENCHMARK%nfilled: %d manifests, %d blobs in %.1f s%n",
                    MANIFESTS, all.size(), (System.nanoTime() - t0) / 1e9);

            // retention dry run over every tag
            RetentionPolicy policy = RetentionPolicy.fromMap(new Yaml()
                    .load("name: p\nrepositories: [bench/app]\n"
                            + "rules: [{keep-last-pushed: 100}, {keep-tags-matching: 't1.*'}]\nuntagged: delete"));
            Maintenance maintenance = new Maintenance(r);
            Retention retention = maintenance.retention();
            for (int run = 0; run < 3; run++) {
                long t = System.nanoTime();
                Retention.Plan plan = retention.evaluate(policy, r.clock().millis());
                System.out.printf(
                        "retention dry run over %d tags: %.0f ms (%d kept, %d to delete, %d manifests)%n",
                        plan.tags().size(),
                        (System.nanoTime() - t) / 1e6,
                        plan.tagsKept(),
                        plan.tagsDeleted(),
                        plan.manifests().size());
            }

            // garbage collection: half the manifests deleted, their 25 000 blobs are garbage
            for (int m = 0; m < MANIFESTS; m += 2) {
                r.manifests().delete(app, manifests.get(m));
            }
            System.gc();
            heapPeakReset();
            GarbageCollector.Status dry =
                    maintenance.gc().runNow(new GarbageCollector.Options(true, Duration.ZERO, false));
            long t = System.nanoTime();
            GarbageCollector.Status gc =
                    maintenance.gc().runNow(new GarbageCollector.Options(false, Duration.ZERO, false));
            double seconds = (System.nanoTime() - t) / 1e9;
            long peak = heapPeakReset();
            System.out.printf(
                    "gc over %d manifests and %d blobs: dry run %.1f s; run %.1f s, %d blobs deleted "
                            + "(%.0f blobs/s, %d MiB), %d examined; peak heap %d MiB%n",
                    MANIFESTS,
                    all.size(),
                    (dry.updatedAt() - dry.startedAt()) / 1e3,
                    seconds,
                    gc.blobsDeleted(),
                    gc.blobsDeleted() / seconds,
                    gc.bytesFreed() >> 20,
                    gc.blobsExamined(),
                    peak >> 20);

            // a repository of 100 000 tags
            Digest one = images.image(many, "base", "many");
            for (int from = 0; from < TAGS; from += 10_000) {
                int start = from;
                r.metadata().inTransaction(tx -> {
                    for (int i = start; i < Math.min(TAGS, start + 10_000); i++) {
                        tx.tags().set(many, String.format("tag-%06d", i), one, ChangeOrigin.of("v2"));
                    }
                    return null;
                });
            }
        }
        try (BerthProcess berth = BerthProcess.start(
                data, List.of("-Xmx512m"), Map.of("BERTH_ADMIN_TOKENS", "s3cret", "BERTH_HTTP_ACCESS_LOG", "false"))) {
            var admin = berth.admin("s3cret");
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int round = 0; round < 2; round++) { // the first round warms up
                for (ListTagsRequest.Order order : ListTagsRequest.Order.values()) {
                    if (order == ListTagsRequest.Order.UNRECOGNIZED) {
                        continue;
                    }
                    List<Long> pages = new ArrayList<>();
                    String token = "";
                    int seen = 0;
                    do {
                        long t = System.nanoTime();
                        ListTagsResponse page = admin.listTags(ListTagsRequest.newBuilder()
                                .setRepository(many.value())
                                .setOrder(order)
                                .setPageSize(100)
                                .setPageToken(token)
                                .build());
                        pages.add(System.nanoTime() - t);
                        seen += page.getTagsCount();
                        token = page.getNextPageToken();
                    } while (!token.isEmpty());
                    if (round == 1) {
                        System.out.printf(
                                "admin ListTags by %s, %d tags in pages of 100: %s%n",
                                order.name().toLowerCase(), seen, percentiles(pages));
                    }
                }
                List<Long> pages = new ArrayList<>();
                String next = "/v2/" + many + "/tags/list?n=100";
                int seen = 0;
                while (next != null) {
                    long t = System.nanoTime();
                    HttpResponse<String> res = http.send(
                            HttpRequest.newBuilder(URI.create(berth.base() + next))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    pages.add(System.nanoTime() - t);
                    seen += res.body().split("\"tag-").length - 1;
                    next = res.headers()
                            .firstValue("Link")
                            .map(l -> l.substring(1, l.indexOf('>')))
                            .orElse(null);
                }
                if (round == 1) {
                    System.out.printf("/v2 tags/list, %d tags in pages of 100: %s%n", seen, percentiles(pages));
                }
            }
        }
    }
}
