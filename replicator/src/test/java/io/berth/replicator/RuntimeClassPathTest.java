package io.berth.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code berth replicate} runs on this module's runtime class path: it must not carry the registry's engine, its
 * stores' drivers or its HTTP server (issue 24). The class path is the one Maven resolves for the module
 * ({@code dependency:build-classpath}, runtime scope, written to {@code target/runtime-classpath.txt}
 * before the tests), so a dependency that drags one in, directly or through another, fails here.
 */
class RuntimeClassPathTest {
    /** Artifacts that belong to {@code berth serve} only. */
    static final Set<String> SERVER_ONLY = Set.of("registry-core", "sqlite-jdbc", "postgresql", "HikariCP", "minio",
            "okhttp-jvm", "helidon-webserver");

    @Test
    void carriesNeitherTheEngineNorStoreDriversNorTheHttpServer() throws IOException {
        List<String> artifacts = artifacts(Path.of("target", "runtime-classpath.txt"));
        // the file is the real class path: what the module does need is on it
        assertTrue(artifacts.contains("kafka-clients") && artifacts.contains("registry-model"), artifacts::toString);
        assertEquals(List.of(), artifacts.stream().filter(SERVER_ONLY::contains).toList());
    }

    /**
     * The artifact ids of a class path: a jar in a Maven repository is {@code …/<artifact>/<version>/<jar>},
     * a module of this build {@code …/<module>/target/classes}; either way two levels up.
     */
    static List<String> artifacts(Path classPathFile) throws IOException {
        String text = Files.readString(classPathFile).strip();
        return List.of(text.split(File.pathSeparator)).stream()
                .map(entry -> Path.of(entry).getParent().getParent().getFileName().toString()).toList();
    }
}
