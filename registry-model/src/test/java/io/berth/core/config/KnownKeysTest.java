package io.berth.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KnownKeysTest {
    static final List<String> ENDPOINT = List.of(
            "name",
            "url",
            "secret",
            "headers",
            "actions",
            "repositories",
            "media-types",
            "types",
            "timeout",
            "max-attempts",
            "start-from");

    @Test
    void theNearestKnownKeyOfASlip() {
        assertEquals(Optional.of("repositories"), KnownKeys.nearest("repository", ENDPOINT));
        assertEquals(Optional.of("media-types"), KnownKeys.nearest("media_types", ENDPOINT));
        assertEquals(Optional.of("max-attempts"), KnownKeys.nearest("max-attempt", ENDPOINT));
        assertEquals(Optional.of("max-attempts"), KnownKeys.nearest("Max-Attempts", ENDPOINT));
        assertEquals(Optional.of("deletes"), KnownKeys.nearest("delete", List.of("deletes", "tags")));
        assertEquals(
                Optional.of("reconcile-interval"),
                KnownKeys.nearest("reconcile", List.of("source", "reconcile-interval")));
        assertEquals(Optional.of("url"), KnownKeys.nearest("uri", ENDPOINT));
        assertEquals(Optional.empty(), KnownKeys.nearest("colour", ENDPOINT), "nothing close: no guess");
    }

    @Test
    void theRefusalNamesTheNearestOrListsThemAll() {
        assertEquals(
                "is not a known key: did you mean repositories?",
                KnownKeys.refusal("repository", ENDPOINT, "known key"));
        assertEquals(
                "is not a rule (keep-last-pushed, keep-last-pulled)",
                KnownKeys.refusal("keep-forever", List.of("keep-last-pushed", "keep-last-pulled"), "rule"));
        assertEquals(Optional.of("keep"), KnownKeys.firstUnknown(List.of("name", "keep", "more"), ENDPOINT));
        assertEquals(3, KnownKeys.distance("kitten", "sitting"));
    }
}
