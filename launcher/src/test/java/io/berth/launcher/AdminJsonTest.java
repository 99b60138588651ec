package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.proto.admin.v1.Event;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.ListTagsRequest;
import io.berth.proto.admin.v1.RestoreTagRequest;
import io.berth.proto.admin.v1.Tag;
import io.berth.proto.admin.v1.TagHistory;
import io.berth.proto.admin.v1.TagVersion;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code berth admin --json}: numbers as numbers, times as RFC 3339 (null for never), valid JSON throughout. */
class AdminJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aStreamedEventIsOneLineOfJsonWithItsPayloadIntact() throws Exception {
        String payload = "{\"specversion\": \"1.0\",\n  \"data\": {\"x\": \"a, b\"}}";
        String line = AdminJson.line(Event.newBuilder()
                .setSequence(815)
                .setRecordedEpochMillis(1_764_234_881_118L)
                .setType("io.berth.tag.created")
                .setRepository("team-a/app")
                .setPayload(payload)
                .build());
        assertFalse(line.contains("\n"), line);
        JsonNode e = JSON.readTree(line);
        assertEquals(815, e.get("sequence").asLong());
        assertEquals("2025-11-27T09:14:41.118Z", e.get("recordedAt").asText());
        assertEquals(payload, e.get("payload").asText(), "strings keep their own line breaks, escaped");
    }

    @Test
    void numbersAreNumbersAndTimesAreRfc3339() throws Exception {
        JsonNode tag = JSON.readTree(AdminJson.print(Tag.newBuilder()
                .setRepository("team-a/app")
                .setName("v1")
                .setDigest("sha256:6c3c")
                .setMediaType("application/vnd.oci.image.index.v1+json")
                .setSize(5_000_000_000L)
                .addPlatforms("linux/amd64")
                .addPlatforms("linux/arm64")
                .setPushedEpochMillis(1_764_234_723_517L)
                .build()));
        assertTrue(tag.get("size").isIntegralNumber(), tag.toString());
        assertEquals(5_000_000_000L, tag.get("size").asLong());
        assertEquals("2025-11-27T09:12:03.517Z", tag.get("pushedAt").asText());
        assertEquals(
                OffsetDateTime.parse(tag.get("pushedAt").asText()).toInstant().toEpochMilli(), 1_764_234_723_517L);
        assertTrue(tag.get("lastPulledAt").isNull(), "never pulled: " + tag);
        assertEquals(
                List.of("repository", "name", "digest", "mediaType", "size", "platforms", "pushedAt", "lastPulledAt"),
                fieldNames(tag));
        assertEquals("linux/arm64", tag.get("platforms").get(1).asText());

        JsonNode history = JSON.readTree(AdminJson.print(TagHistory.newBuilder()
                .setRepository("r")
                .setTag("t")
                .addVersions(TagVersion.newBuilder()
                        .setVersion(2)
                        .setAction("MOVED")
                        .setDigest("sha256:b")
                        .setPreviousDigest("sha256:a")
                        .setChangedEpochMillis(1000)
                        .setVia("admin")
                        .setActor("alice \"the admin\"\n")
                        .build())
                .build()));
        JsonNode v = history.get("versions").get(0);
        assertEquals(2, v.get("version").asInt());
        assertTrue(v.get("version").isIntegralNumber());
        assertEquals("1970-01-01T00:00:01Z", v.get("changedAt").asText());
        assertEquals("alice \"the admin\"\n", v.get("actor").asText(), "escaped and read back");

        JsonNode gc = JSON.readTree(AdminJson.print(GarbageCollectionStatus.newBuilder()
                .setId("g")
                .setState("SUCCEEDED")
                .setDryRun(true)
                .setCutoffEpochMillis(5)
                .setManifestsDeleted(3)
                .setBlobsDeleted(4)
                .setBytesFreed(1024)
                .build()));
        assertTrue(gc.get("dryRun").isBoolean());
        assertEquals(3, gc.get("manifestsDeleted").asInt());
        assertTrue(gc.get("bytesFreed").isIntegralNumber());
        assertTrue(gc.get("finishedAt").isNull(), "running or never");
        assertTrue(gc.has("cutoffAt") && gc.has("startedAt") && gc.has("updatedAt"), gc.toString());
        assertEquals(0, gc.get("items").size());

        // enums by name; a oneof prints the member that is set
        assertEquals(
                "REGEX",
                JSON.readTree(AdminJson.print(ListTagsRequest.newBuilder()
                                .setFilterKind(ListTagsRequest.FilterKind.REGEX)
                                .build()))
                        .get("filterKind")
                        .asText());
        JsonNode restore = JSON.readTree(
                AdminJson.print(RestoreTagRequest.newBuilder().setVersion(3).build()));
        assertEquals(3, restore.get("version").asInt());
        assertTrue(!restore.has("at"), restore.toString());
    }

    /** The history table: the digest and the one before it, as the other tables print digests, and the actor. */
    @Test
    void theHistoryTableShowsThePreviousDigestAndTheActor() {
        TagVersion v = TagVersion.newBuilder()
                .setVersion(2)
                .setAction("MOVED")
                .setDigest("sha256:" + "b".repeat(64))
                .setPreviousDigest("sha256:" + "a".repeat(64))
                .setChangedEpochMillis(1000)
                .setVia("v2")
                .setActor("robot:ci")
                .setRequestId("req-1")
                .build();
        assertEquals(
                List.of("VERSION", "ACTION", "DIGEST", "PREVIOUS", "WHEN", "VIA", "ACTOR", "REQUEST"),
                AdminTags.History.HEADERS);
        assertEquals(
                List.of(
                        "2",
                        "MOVED",
                        "sha256:bbbbbbbbbbbb",
                        "sha256:aaaaaaaaaaaa",
                        "1970-01-01T00:00:01Z",
                        "v2",
                        "robot:ci",
                        "req-1"),
                AdminTags.History.row(v));
        assertEquals(
                List.of("1", "CREATED", "sha256:aaaaaaaaaaaa", "-", "1970-01-01T00:00:01Z", "admin", "-", "-"),
                AdminTags.History.row(TagVersion.newBuilder()
                        .setVersion(1)
                        .setAction("CREATED")
                        .setDigest("sha256:" + "a".repeat(64))
                        .setChangedEpochMillis(1000)
                        .setVia("admin")
                        .build()));
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
