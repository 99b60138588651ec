package io.berth.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    static RegistryEvent sample() {
        String id = "5d7a2c1e-0000-4000-8000-000000000001";
        return new RegistryEvent(
                "1.0",
                id,
                "//registry.example:5000",
                "io.berth.manifest.pushed",
                "2026-11-27T09:00:00.123Z",
                "team/app:v1",
                "application/json",
                "7",
                "team/app",
                new DistributionEvent(
                        id,
                        "2026-11-27T09:00:00.123Z",
                        "push",
                        new DistributionEvent.Target(
                                "application/vnd.oci.image.manifest.v1+json",
                                "sha256:" + "a".repeat(64),
                                512L,
                                512L,
                                "team/app",
                                "http://registry.example:5000/v2/team/app/manifests/sha256:" + "a".repeat(64),
                                "v1",
                                List.of("sha256:" + "b".repeat(64))),
                        new DistributionEvent.Request("req-1", "10.0.0.1", "registry.example:5000", "PUT", "docker/28"),
                        new DistributionEvent.Actor(""),
                        new DistributionEvent.Source("registry.example:5000", "i-1")));
    }

    @Test
    void roundTripsAndKeepsDistributionFieldNames() throws Exception {
        RegistryEvent e = sample();
        byte[] json = EventCodec.encode(e);
        assertEquals(e, EventCodec.decode(json));
        String text = new String(json, StandardCharsets.UTF_8);
        for (String field : List.of(
                "\"specversion\":\"1.0\"",
                "\"datacontenttype\":\"application/json\"",
                "\"mediaType\"",
                "\"useragent\"",
                "\"instanceID\"",
                "\"references\"",
                "\"length\":512")) {
            assertTrue(text.contains(field), field + " in " + text);
        }
    }

    @Test
    void malformedRecordsAreRefusedSayingWhy() {
        record Case(String json, String why) {}
        String good = EventCodec.encodeToString(sample());
        List<Case> cases = List.of(
                new Case("", "empty"),
                new Case("not json", "not a JSON event"),
                new Case(good.replace("\"specversion\":\"1.0\"", "\"specversion\":\"0.3\""), "specversion"),
                new Case(good.replace("io.berth.manifest.pushed", "io.berth.nope"), "unknown type"),
                new Case(good.replace("\"time\":\"2026-11-27T09:00:00.123Z\"", "\"time\":\"yesterday\""), "time"),
                new Case(good.replace("\"action\":\"push\"", "\"action\":\"delete\""), "does not fit"),
                new Case(
                        good.replace("\"berthrepository\":\"team/app\"", "\"berthrepository\":\"other\""),
                        "target.repository"));
        for (Case c : cases) {
            MalformedEventException e = assertThrows(
                    MalformedEventException.class,
                    () -> EventCodec.decode(c.json().getBytes(StandardCharsets.UTF_8)),
                    c.json());
            assertTrue(e.getMessage().contains(c.why()), e.getMessage());
        }
    }
}
