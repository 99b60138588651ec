package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.error.ErrorCode;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import io.berth.testsupport.oci.OciClient;
import io.berth.testsupport.oci.OciResponse;
import io.berth.testsupport.oci.PushedImage;
import io.berth.testsupport.oci.TestImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    static final long SECONDS = Long.getLong("berth.test.gc-load-seconds", 60);

    @TempDir
    Path dir;

    /** Pushes blobs and a manifest as a client does; on MANIFEST_BLOB_UNKNOWN pushes the blobs again. */
    static PushedImage push(OciClient oci, String repo, String tag, TestImage image) {
        for (int attempt = 0; ; attempt++) {
            for (byte[] blob : image.blobs()) {
                oci.pushBlob(repo, blob);
            }
            OciResponse put = oci.send(
                    "PUT",
                    "/v2/" + repo + "/manifests/" + tag,
                    image.manifest(),
                    "Content-Type",
                    MediaTypes.OCI_MANIFEST);
            if (put.status() == 201) {
                return new PushedImage(repo, tag, image.manifestDigest(), image.configDigest(), image.layerDigests());
            }
            // a blob collected between its upload and the manifest (possible with no grace): push again
            put.expectError(400, ErrorCode.MANIFEST_BLOB_UNKNOWN);
            assertTrue(attempt < 5, put.toString());
        }
    }

    /** Pulls an image by tag and checks every digest. */
    static void verify(OciClient oci, PushedImage image) {
        assertEquals(
                image.manifest(),
                oci.pullManifest(image.repo(), image.tag()).digest(),
                image.repo() + ":" + image.tag());
        for (Digest d : image.blobs()) {
            oci.pullBlob(image.repo(), d);
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
            OciClient oci = berth.oci();
            var admin = berth.admin("s3cret");
            AtomicBoolean running = new AtomicBoolean(true);
            Map<String, PushedImage> kept = new ConcurrentHashMap<>();
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
                        PushedImage image = push(oci, repo, "t" + thread + "-" + i, TestImage.of(config, shared, own));
                        if (i % 3 == 0) {
                            oci.deleteManifest(repo, image.manifest().toString());
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
                        List<PushedImage> images = new ArrayList<>(kept.values());
                        if (images.isEmpty()) {
                            Thread.sleep(10);
                            continue;
                        }
                        verify(oci, images.get(ThreadLocalRandom.current().nextInt(images.size())));
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
                var it = admin.withDeadlineAfter(5, TimeUnit.MINUTES)
                        .runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                                .setGrace("1s")
                                .setDeleteUntagged(true)
                                .build());
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
                    throw new AssertionError(
                            e.getCause().getMessage() + "\nserver warnings and errors:\n" + problems(berth.output()),
                            e.getCause());
                }
            }
            pool.shutdown();
            System.out.printf(
                    "gc under load: %d collections deleted %d blobs while %d images were kept, %d deleted, "
                            + "%d pulls verified%n",
                    runs, blobsDeleted, kept.size(), deleted.get(), pulls.get());
            assertTrue(runs >= 5 && blobsDeleted > 0 && pulls.get() > 0, runs + " runs, " + blobsDeleted + " blobs");

            // the end state: everything kept pulls; a last collection leaves exactly the referenced blobs
            for (PushedImage image : kept.values()) {
                verify(oci, image);
            }
            var it = admin.runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                    .setGrace("0s")
                    .setDeleteUntagged(true)
                    .build());
            while (it.hasNext()) {
                it.next();
            }
            Set<Digest> referenced = new HashSet<>();
            kept.values().forEach(i -> referenced.addAll(i.blobs()));
            Set<Digest> stored = new HashSet<>();
            try (Stream<Path> files = Files.walk(data.resolve("data/blobs/blobs"))) {
                files.filter(Files::isRegularFile)
                        .forEach(p -> stored.add(
                                Digest.parse(p.getParent().getParent().getFileName() + ":" + p.getFileName())));
            }
            assertEquals(referenced, stored, "storage holds exactly the blobs of the kept images");
        }
    }
}
