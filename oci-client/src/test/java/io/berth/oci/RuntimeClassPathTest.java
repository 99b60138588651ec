package io.berth.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.RuntimeClassPath;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client is shared by {@code berth replicate} and the pull-through cache: it stands on the model and
 * Jackson only, so neither brings the other's parts (the engine, Kafka, Helidon) along through it.
 */
class RuntimeClassPathTest {
    @Test
    void carriesTheModelAndJacksonOnly() throws IOException {
        List<String> artifacts = RuntimeClassPath.artifacts();
        assertTrue(artifacts.contains("registry-model") && artifacts.contains("jackson-databind"), artifacts::toString);
        assertEquals(
                List.of(),
                artifacts.stream()
                        .filter(a -> RuntimeClassPath.SERVER_ONLY.contains(a)
                                || a.startsWith("kafka")
                                || a.startsWith("helidon")
                                || a.equals("registry-spi")
                                || a.equals("events")
                                || a.equals("event-stream"))
                        .toList());
    }
}
