package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage collection in a loop for a minute, with a grace of one second, while pushes and pulls go
 * on against {@code berth serve}: every acknowledged image that was not deleted still pulls with
 * verified digests, and what nothing references has really left storage. Shared base layers become
 * garbage when their last image is deleted and are pushed again moments later: the uploads and the
 * collections meet on the same digests all the time.
 */
@Tag("process")
class GcUnderLoadProcessTest {
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final long SECONDS = Long.getLong("berth.test.gc-load-seconds", 60);

    @TempDir
    Path dir;

    record Image(String repo, String tag, Digest manifest, List<Digest> blobs) {
    }

    static HttpResponse<byte[]> send(String method, String url, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Pushes blobs and a manifest as a client does; on MANIFEST_BLOB_UNKNOWN pushes the blobs again. */
    static Image push(String base, String repo, String tag, byte[] config, byte[]... layers) throws Exception {
        List<Digest> blobs = new ArrayList<>();
        StringBuilder l = new StringBuilder();
        Digest c = Digest.compute(DigestAlgorithm.SHA256, config);
        blobs.add(c);
        for (byte[] layer : layers) {
            Digest d = Digest.compute(DigestAlgorithm.SHA256, layer);
            blobs.add(d);
            l.append(l.isEmpty() ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                    + "\"digest\":\"").append(d).append("\",\"size\":").append(layer.length).append('}');
        }
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c
                + "\",\"size\":" + config.length + "},\"layers\":[" + l + "]}").getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; ; attempt++) {
            List<byte[]> contents = new ArrayList<>(List.of(config));
            contents.addAll(List.of(layers));
            for (byte[] content : contents) {
                Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
                HttpResponse<byte[]> r = send("POST", base + "/v2/" + repo + "/blobs/uploads/?digest=" + d, content);
                assertEquals(201, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            }
            HttpResponse<byte[]> put = send("PUT", base + "/v2/" + repo + "/manifests/" + tag, manifest,
                    "Content-Type", "application/vnd.oci.image.manifest.v1+json");
            String body = new String(put.body(), StandardCharsets.UTF_8);
            if (put.statusCode() == 201) {
                return new Image(repo, tag, Digest.compute(DigestAlgorithm.SHA256, manifest), blobs);
            }
            // a blob collected between its upload and the manifest (possible with no grace): push again
            assertTrue(put.statusCode() == 400 && body.contains("MANIFEST_BLOB_UNKNOWN") && attempt < 5, body);
        }
    }

    /** Pulls an image by tag and checks every digest. */
    static void verify(String base, Image image) throws Exception {
        HttpResponse<byte[]> m = send("GET", base + "/v2/" + image.repo() + "/manifests/" + image.tag(), null,
                "Accept", "application/vnd.oci.image.manifest.v1+json");
        assertEquals(200, m.statusCode(), image.repo() + ":" + image.tag());
        assertEquals(image.manifest(), Digest.compute(DigestAlgorithm.SHA256, m.body()));
        for (Digest d : image.blobs()) {
            HttpResponse<byte[]> b = send("GET", base + "/v2/" + image.repo() + "/blobs/" + d, null);
            assertEquals(200, b.statusCode(), "blob " + d + " of " + image.repo() + ":" + image.tag());
            assertEquals(d, Digest.compute(DigestAlgorithm.SHA256, b.body()), "blob " + d);
        }
    }

    private static final Pattern TIMESTAMPED = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T");

    /** The server's warning and error lines with their stack traces, at most 80 lines. */
    static String problems(String log) {
        List<String> out = new ArrayList<>();
        boolean inProblem = false;
        for (String line : log.split("\n")) {
            boolean start = (line.contains(" WARNING ") || line.contains(" ERROR ") || line.contains(" SEVERE "))
                    && !line.contains("berth.access");
            // a stack trace follows its record: every line up to the next timestamped one
            if (start || (inProblem && !TIMESTAMPED.matcher(line).lookingAt())) {
                out.add(line);
                inProblem = true;
            } else {
                inProblem = false;
            }
        }
        return String.join("\n", out.subList(0, Math.min(out.size(), 80)));
    }

    @Test
    void everyKeptImagePullsAndGarbageLeavesStorageWhileCollectionsRunForAMinute() throws Exception {
        Path data = dir.resolve("berth");
        try (BerthProcess berth = BerthProcess.start(data, List.of(), Map.of("BERTH_ADMIN_TOKENS", "s3cret"))) {
            String base = berth.base();
            var admin = berth.admin("s3cret");
            AtomicBoolean running = new AtomicBoolean(true);
            Map<String, Image> kept = new ConcurrentHashMap<>();
            AtomicLong deleted = new AtomicLong();
            AtomicLong pulls = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(5);
            List<Future<?>> load = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int thread = t;
                load.add(pool.submit(() -> {
                    for (int i = 0; running.get(); i++) {
                        String repo = "load/r" + (i % 4);
                        byte[] config = ("{\"t\":" + thread + ",\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8);
                        // a base layer shared by many images (collected when none is left, pushed again later),
                        // and a layer of the image's own
                        byte[] shared = ("base layer " + (i % 5)).getBytes(StandardCharsets.UTF_8);
                        byte[] own = ("own layer " + thread + "/" + i).getBytes(StandardCharsets.UTF_8);
                        Image image = push(base, repo, "t" + thread + "-" + i, config, shared, own);
                        if (i % 3 == 0) {
                            HttpResponse<byte[]> del = send("DELETE", base + "/v2/" + repo + "/manifests/"
                                    + image.manifest(), null);
                            assertEquals(202, del.statusCode());
                            deleted.incrementAndGet();
                        } else {
                            kept.put(repo + ":" + image.tag(), image);
                        }
                    }
                    return null;
                }));
            }
            for (int t = 0; t < 2; t++) {
                load.add(pool.submit(() -> {
                    while (running.get()) {
                        List<Image> images = new ArrayList<>(kept.values());
                        if (images.isEmpty()) {
                            Thread.sleep(10);
                            continue;
                        }
                        verify(base, images.get(ThreadLocalRandom.current().nextInt(images.size())));
                        pulls.incrementAndGet();
                    }
                    return null;
                }));
            }
            long runs = 0;
            long blobsDeleted = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            while (System.nanoTime() < end) {
                GarbageCollectionStatus last = null;
                var it = admin.withDeadlineAfter(5, TimeUnit.MINUTES).runGarbageCollection(RunGarbageCollectionRequest
                        .newBuilder().setGrace("1s").setDeleteUntagged(true).build());
                while (it.hasNext()) {
                    last = it.next();
                }
                assertEquals("SUCCEEDED", last.getState(), last.toString());
                runs++;
                blobsDeleted += last.getBlobsDeleted();
            }
            running.set(false);
            for (Future<?> f : load) {
                try {
                    f.get(2, TimeUnit.MINUTES); // rethrows what a pusher or puller found
                } catch (ExecutionException e) {
                    // with what the server logged about it: a 500 is logged with its stack trace
                    throw new AssertionError(e.getCause().getMessage() + "\nserver warnings and errors:\n"
                            + problems(berth.output()), e.getCause());
                }
            }
            pool.shutdown();
            System.out.printf("gc under load: %d collections deleted %d blobs while %d images were kept, %d deleted, "
                    + "%d pulls verified%n", runs, blobsDeleted, kept.size(), deleted.get(), pulls.get());
            assertTrue(runs >= 5 && blobsDeleted > 0 && pulls.get() > 0, runs + " runs, " + blobsDeleted + " blobs");

            // the end state: everything kept pulls; a last collection leaves exactly the referenced blobs
            for (Image image : kept.values()) {
                verify(base, image);
            }
            var it = admin.runGarbageCollection(RunGarbageCollectionRequest.newBuilder().setGrace("0s")
                    .setDeleteUntagged(true).build());
            while (it.hasNext()) {
                it.next();
            }
            Set<Digest> referenced = new HashSet<>();
            kept.values().forEach(i -> referenced.addAll(i.blobs()));
            Set<Digest> stored = new HashSet<>();
            try (Stream<Path> files = Files.walk(data.resolve("data/blobs/blobs"))) {
                files.filter(Files::isRegularFile).forEach(p -> stored.add(Digest.parse(p.getParent().getParent()
                        .getFileName() + ":" + p.getFileName())));
            }
            assertEquals(referenced, stored, "storage holds exactly the blobs of the kept images");
        }
    }
}
