package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every change writes its events into the outbox in its own transaction; a failed change writes none. */
class EventRecorderTest {
    static final RepositoryName REPO = RepositoryName.of("team-a/app");
    static final RepositoryName OTHER = RepositoryName.of("team-b/app");

    @TempDir
    Path dir;

    Registry registry;
    int read;
    int opened;

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
    }

    Registry open(Map<String, String> settings) {
        opened++;
        try {
            registry = new Registry(
                    new FilesystemBlobStore(dir.resolve("blobs-" + opened), false),
                    new SqliteMetadataStore(dir.resolve("berth-" + opened + ".db")),
                    RegistryOptions.of(settings));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return registry;
    }

    Registry withEvents() {
        return open(Map.of("events.kafka.bootstrap-servers", "127.0.0.1:1", "events.source", "//test.example"));
    }

    BlobInfo push(RepositoryName repo, String content) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        return registry.uploads()
                .putMonolithic(
                        repo,
                        Digest.compute(DigestAlgorithm.SHA256, b),
                        OptionalLong.of(b.length),
                        new ByteArrayInputStream(b));
    }

    static byte[] image(BlobInfo config, BlobInfo... layers) {
        StringBuilder l = new StringBuilder();
        for (BlobInfo b : layers) {
            l.append(l.isEmpty() ? "" : ",")
                    .append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\"," + "\"digest\":\"")
                    .append(b.digest())
                    .append("\",\"size\":")
                    .append(b.size())
                    .append('}');
        }
        return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                        + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config.digest()
                        + "\",\"size\":"
                        + config.size() + "},\"layers\":[" + l + "]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The events written since the last call, decoded with the shared codec. */
    List<RegistryEvent> newEvents() {
        List<OutboxEvent> rows = registry.metadata().outbox().pending(10_000);
        List<RegistryEvent> out = new ArrayList<>();
        for (OutboxEvent row : rows.subList(read, rows.size())) {
            try {
                RegistryEvent e = EventCodec.decode(row.payload().getBytes(StandardCharsets.UTF_8));
                assertEquals(row.id(), e.id());
                assertEquals(row.type(), e.type());
                assertEquals(row.repository(), e.repository());
                assertEquals(Long.toString(row.repoSeq()), e.sequence());
                out.add(e);
            } catch (MalformedEventException ex) {
                throw new AssertionError("an outbox row the codec refuses: " + ex.getMessage());
            }
        }
        read = rows.size();
        return out;
    }

    static List<String> types(List<RegistryEvent> events) {
        return events.stream()
                .map(e -> e.type().substring("io.berth.".length()))
                .toList();
    }

    @Test
    void urlsInEventsComeFromThePublicUrlNeverFromTheHostHeader() {
        Caller hostile = new Caller("10.0.0.9", "req-1", "evil.example:5000", "PUT", "docker/28", "", Caller.V2);
        // without http.public-url: the events' source (this host's name and port), over https with TLS
        open(Map.of(
                "events.kafka.bootstrap-servers",
                "127.0.0.1:1",
                "events.source",
                "//test.example:5000",
                "http.tls.cert",
                "/nonexistent.crt"));
        BlobInfo config = push(REPO, "{}");
        Digest d = registry.manifests()
                .put(hostile, REPO, new Tag("v1"), List.of(), MediaTypes.OCI_MANIFEST, image(config))
                .digest();
        List<RegistryEvent> e = newEvents();
        assertEquals(
                "https://test.example:5000/v2/team-a/app/manifests/" + d,
                e.get(0).data().target().url());
        assertEquals("evil.example:5000", e.get(0).data().request().host(), "the request's own Host, as Distribution");
        registry.close();
        // with it: its URL, and the source follows it
        open(Map.of(
                "events.kafka.bootstrap-servers", "127.0.0.1:1", "http.public-url", "https://registry.example.com"));
        read = 0;
        config = push(REPO, "{}");
        d = registry.manifests()
                .put(hostile, REPO, new Tag("v1"), List.of(), MediaTypes.OCI_MANIFEST, image(config))
                .digest();
        e = newEvents();
        assertEquals(
                "https://registry.example.com/v2/team-a/app/manifests/" + d,
                e.get(0).data().target().url());
        assertEquals("//registry.example.com", e.get(0).source());
    }

    @Test
    void everyKindOfChangeIsRecordedWithItsTargetAndNothingElse() {
        withEvents();
        BlobInfo config = push(REPO, "{}");
        BlobInfo layer = push(REPO, "layer");
        assertEquals(List.of(), newEvents(), "a blob upload alone is no event (the manifest push names it)");

        byte[] v1 = image(config, layer);
        Digest d1 = registry.manifests()
                .put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, v1)
                .digest();
        List<RegistryEvent> e = newEvents();
        assertEquals(List.of("manifest.pushed", "tag.created"), types(e));
        var pushed = e.get(0);
        assertEquals("team-a/app:v1", pushed.subject());
        assertEquals("//test.example", pushed.source());
        assertEquals("push", pushed.data().action());
        assertEquals(d1.toString(), pushed.data().target().digest());
        assertEquals(MediaTypes.OCI_MANIFEST, pushed.data().target().mediaType());
        assertEquals((long) v1.length, pushed.data().target().size());
        assertEquals("v1", pushed.data().target().tag());
        assertEquals(
                List.of(config.digest().toString(), layer.digest().toString()),
                pushed.data().target().references());
        assertTrue(
                pushed.data().target().url().endsWith("/v2/team-a/app/manifests/" + d1),
                pushed.data().target().url());

        registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, v1);
        assertEquals(List.of("manifest.pushed"), types(newEvents()), "the same again: the tag did not change");

        registry.manifests().put(REPO, d1, MediaTypes.OCI_MANIFEST, v1);
        RegistryEvent byDigest = newEvents().get(0);
        assertEquals("team-a/app@" + d1, byDigest.subject());
        assertEquals(null, byDigest.data().target().tag());

        BlobInfo layer2 = push(REPO, "layer two");
        Digest d2 = registry.manifests()
                .put(REPO, new Tag("v1"), List.of(new Tag("v2")), MediaTypes.OCI_MANIFEST, image(config, layer2))
                .digest();
        e = newEvents();
        assertEquals(List.of("manifest.pushed", "tag.moved", "tag.created"), types(e));
        assertEquals(d2.toString(), e.get(1).data().target().digest());
        assertEquals("team-a/app:v2", e.get(2).subject());

        assertEquals(
                layer,
                registry.uploads()
                        .mount(OTHER, layer.digest(), Optional.of(REPO))
                        .orElseThrow());
        e = newEvents();
        assertEquals(List.of("blob.mounted"), types(e));
        assertEquals("mount", e.get(0).data().action());
        assertEquals("team-b/app", e.get(0).repository());
        assertTrue(e.get(0).data().target().url().endsWith("/v2/team-b/app/blobs/" + layer.digest()));

        registry.manifests().delete(REPO, new Tag("v2"));
        e = newEvents();
        assertEquals(List.of("tag.deleted"), types(e));
        assertEquals(d2.toString(), e.get(0).data().target().digest(), "the manifest the tag pointed at");
        assertEquals("delete", e.get(0).data().action());

        registry.manifests().delete(REPO, d2); // still tagged v1
        e = newEvents();
        assertEquals(List.of("tag.deleted", "manifest.deleted"), types(e));
        assertEquals("team-a/app:v1", e.get(0).subject());
        assertEquals("team-a/app@" + d2, e.get(1).subject());
        assertEquals(MediaTypes.OCI_MANIFEST, e.get(1).data().target().mediaType());

        registry.blobs().delete(REPO, layer2.digest());
        e = newEvents();
        assertEquals(List.of("blob.deleted"), types(e));
        assertEquals(layer2.digest().toString(), e.get(0).data().target().digest());
    }

    @Test
    void aChangeThatFailsRecordsNoEvent() {
        withEvents();
        BlobInfo config = push(REPO, "{}");
        BlobInfo layer = push(REPO, "layer");
        BlobInfo absent =
                new BlobInfo(Digest.compute(DigestAlgorithm.SHA256, "absent".getBytes(StandardCharsets.UTF_8)), 6);
        RegistryException e = assertThrows(
                RegistryException.class,
                () -> registry.manifests()
                        .put(REPO, new Tag("broken"), MediaTypes.OCI_MANIFEST, image(config, absent)));
        assertEquals(ErrorCode.MANIFEST_BLOB_UNKNOWN, e.code());
        assertEquals(List.of(), newEvents());

        Digest d = registry.manifests()
                .put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, image(config, layer))
                .digest();
        newEvents();
        e = assertThrows(RegistryException.class, () -> registry.blobs().delete(REPO, layer.digest()));
        assertEquals(ErrorCode.REFERENCED, e.code());
        assertThrows(RegistryException.class, () -> registry.manifests().delete(REPO, new Tag("nope")));
        assertTrue(registry.uploads()
                .mount(OTHER, layer.digest(), Optional.of(RepositoryName.of("no/such")))
                .isEmpty());
        assertEquals(List.of(), newEvents(), "refused deletes, unknown tags, failed mounts: nothing happened");
        assertTrue(registry.manifests().get(REPO, d) != null);
    }

    @Test
    void sequencesCountPerRepositoryWithoutGapsAndTheOutboxKeepsCommitOrder() {
        withEvents();
        BlobInfo config = push(REPO, "{}");
        push(OTHER, "{}");
        for (int i = 0; i < 5; i++) {
            registry.manifests().put(REPO, new Tag("t" + i), MediaTypes.OCI_MANIFEST, image(config));
            registry.manifests().put(OTHER, new Tag("t" + i), MediaTypes.OCI_MANIFEST, image(config));
        }
        List<OutboxEvent> rows = registry.metadata().outbox().pending(1000);
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(rows.get(i).seq() > rows.get(i - 1).seq(), "outbox order is commit order");
        }
        Map<String, List<Long>> perRepo = rows.stream()
                .collect(Collectors.groupingBy(
                        OutboxEvent::repository,
                        TreeMap::new,
                        Collectors.mapping(OutboxEvent::repoSeq, Collectors.toList())));
        List<Long> expected = LongStream.rangeClosed(1, 10).boxed().toList();
        assertEquals(
                Map.of("team-a/app", expected, "team-b/app", expected),
                perRepo,
                "manifest.pushed and tag.created for each of 5 pushes, numbered 1..10 in each repository");
        assertEquals(rows.size(), rows.stream().map(OutboxEvent::id).distinct().count(), "ids are unique");
        assertEquals(20, registry.metadata().outbox().stats().pending());
    }

    static final Set<String> HTTP_METHODS = Set.of("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE");

    /**
     * {@code request.method} is an HTTP method, or empty for a change no HTTP request made (admin,
     * retention, garbage collection), which says what it is in {@code request.via} and
     * {@code request.operation}; a pull event names the host the pull addressed, as a push's does, and the URL
     * every other event names.
     */
    @Test
    void requestsSayHowTheChangeCameAndPullsNameTheHostOfThePull() {
        open(Map.of(
                "events.kafka.bootstrap-servers",
                "127.0.0.1:1",
                "events.source",
                "//events.example:443",
                "events.pull",
                "true"));
        Caller docker = new Caller("10.0.0.1", "req-1", "registry.example:5000", "PUT", "docker/28", "", Caller.V2);
        BlobInfo config = push(REPO, "{}");
        Digest d = registry.manifests()
                .put(docker, REPO, new Tag("v1"), List.of(), MediaTypes.OCI_MANIFEST, image(config))
                .digest();
        registry.manifests()
                .put(
                        docker,
                        REPO,
                        new Tag("old"),
                        List.of(),
                        MediaTypes.OCI_MANIFEST,
                        image(push(REPO, "{\"old\":1}")));
        List<RegistryEvent> pushes = newEvents();
        for (RegistryEvent e : pushes) {
            assertEquals("PUT", e.data().request().method());
            assertEquals("v2", e.data().request().via());
            assertEquals(null, e.data().request().operation(), "the HTTP method says it");
            assertEquals("registry.example:5000", e.data().request().host(), e.toString());
        }

        Caller puller = new Caller("10.0.0.3", "req-3", "registry.example:5000", "GET", "docker/28", "", Caller.V2);
        registry.manifests().get(puller, REPO, new Tag("v1"));
        registry.flushPulls();
        RegistryEvent pulled = newEvents().getFirst();
        assertEquals("io.berth.manifest.pulled", pulled.type());
        assertEquals(
                "registry.example:5000",
                pulled.data().request().host(),
                "the host the pull addressed, as in the push's events");
        String base = pushes.getFirst().data().target().url();
        assertEquals(
                base.substring(0, base.indexOf("/v2/")) + "/v2/team-a/app/manifests/" + d,
                pulled.data().target().url(),
                "the URL every other event names");

        Caller admin = new Caller("10.0.0.2", "req-2", "", "DeleteTag", "grpc-java", "root", Caller.ADMIN);
        registry.tags().delete(admin, REPO, "old");
        RegistryEvent deleted = newEvents().getFirst();
        assertEquals("", deleted.data().request().method(), "no HTTP request made it");
        assertEquals("admin", deleted.data().request().via());
        assertEquals("DeleteTag", deleted.data().request().operation());

        registry.close();
        open(Map.of("events.kafka.bootstrap-servers", "127.0.0.1:1"));
        read = 0;
        registry.manifests().put(REPO, new Tag("gone"), MediaTypes.OCI_MANIFEST, image(push(REPO, "{\"gc\":1}")));
        registry.tags().delete(admin, REPO, "gone");
        newEvents();
        try {
            Thread.sleep(5); // pushed before the cutoff of a collection without grace
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        GarbageCollector.Status run;
        try (var maintenance = new Maintenance(registry)) {
            run = maintenance.gc().runNow(new GarbageCollector.Options(false, Duration.ZERO, true));
        }
        List<RegistryEvent> collected = newEvents();
        assertEquals(List.of("manifest.deleted"), types(collected));
        assertEquals("", collected.get(0).data().request().method());
        assertEquals("gc", collected.get(0).data().request().via());
        assertEquals("gc " + run.id(), collected.get(0).data().request().operation());
        for (RegistryEvent e : List.of(pushes.get(0), pulled, deleted, collected.get(0))) {
            String method = e.data().request().method();
            assertTrue(method.isEmpty() || HTTP_METHODS.contains(method), "an HTTP method or none: " + method);
        }
    }

    @Test
    void withoutKafkaEventsAreKeptForReadersUntilTheRetentionAndNeverPending() throws IOException {
        open(Map.of("events.retention", "1h"));
        BlobInfo config = push(REPO, "{}");
        registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, image(config));
        assertEquals(0, registry.metadata().outbox().stats().pending(), "no relay waits for them");
        List<OutboxEvent> kept = registry.metadata().outbox().after(0, 100);
        assertEquals(
                List.of("io.berth.manifest.pushed", "io.berth.tag.created"),
                kept.stream().map(OutboxEvent::type).toList());
        assertEquals(0, registry.pruneEvents(), "younger than events.retention");
        assertEquals(2, registry.metadata().outbox().after(0, 100).size());
        registry.close();

        // an hour later (the metadata's clock moved back by as much), they are pruned
        opened++;
        Path db = dir.resolve("berth-" + opened + ".db");
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs-" + opened), false),
                new SqliteMetadataStore(db, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-61))),
                RegistryOptions.of(Map.of("events.retention", "1h")));
        push(REPO, "{}");
        registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, image(push(REPO, "{}")));
        assertEquals(2, registry.metadata().outbox().after(0, 100).size());
        assertEquals(2, registry.pruneEvents());
        assertEquals(List.of(), registry.metadata().outbox().after(0, 100));
    }

    @Test
    void withRecordingOffAndWithoutKafkaNothingIsRecordedAndPullEventsAreAggregated() {
        open(Map.of("events.record", "false"));
        BlobInfo config = push(REPO, "{}");
        registry.manifests().put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, image(config));
        assertEquals(0, registry.metadata().outbox().stats().pending());
        assertEquals(List.of(), registry.metadata().outbox().after(0, 100));
        registry.close();

        open(Map.of("events.kafka.bootstrap-servers", "127.0.0.1:1", "events.pull", "true"));
        read = 0;
        config = push(REPO, "{}");
        Digest d = registry.manifests()
                .put(REPO, new Tag("v1"), MediaTypes.OCI_MANIFEST, image(config))
                .digest();
        newEvents();
        for (int i = 0; i < 50; i++) {
            registry.manifests().get(REPO, new Tag("v1"));
            registry.manifests().get(REPO, d);
        }
        registry.flushPulls();
        List<RegistryEvent> e = newEvents();
        assertEquals(List.of("manifest.pulled"), types(e), "100 pulls of one manifest between flushes: one event");
        assertEquals("pull", e.get(0).data().action());
        assertEquals(d.toString(), e.get(0).data().target().digest());
        registry.flushPulls();
        assertEquals(List.of(), newEvents(), "no pulls since: no event");
    }
}
