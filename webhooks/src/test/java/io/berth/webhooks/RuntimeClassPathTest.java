package io.berth.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.RuntimeClassPath;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code berth webhooks} runs on this module's runtime class path: it must not carry the registry's engine, its
 * stores' drivers or its HTTP server (issue 24). The class path is the one Maven resolves for the module
 * ({@link RuntimeClassPath}), so a dependency that drags one in, directly or through another, fails here.
 */
class RuntimeClassPathTest {
    @Test
    void carriesNeitherTheEngineNorStoreDriversNorTheHttpServer() throws IOException {
        List<String> artifacts = RuntimeClassPath.artifacts();
        // the file is the real class path: what the module does need is on it
        assertTrue(artifacts.contains("kafka-clients") && artifacts.contains("registry-model"), artifacts::toString);
        assertEquals(
                List.of(),
                artifacts.stream()
                        .filter(RuntimeClassPath.SERVER_ONLY::contains)
                        .toList());
    }
}
