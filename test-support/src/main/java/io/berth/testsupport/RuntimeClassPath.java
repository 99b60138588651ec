package io.berth.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A module's runtime class path as Maven resolves it ({@code dependency:build-classpath}, runtime
 * scope, written to {@code target/runtime-classpath.txt} before the tests): what a process that runs
 * the module carries, for the modules that must run without {@code berth serve}'s parts (issue 24).
 */
public final class RuntimeClassPath {
    /**
     * Artifacts that belong to {@code berth serve} only: the engine, its stores' drivers, its access
     * control with its JWT and bcrypt libraries, its HTTP server.
     */
    public static final Set<String> SERVER_ONLY = Set.of(
            "registry-core",
            "sqlite-jdbc",
            "postgresql",
            "HikariCP",
            "minio",
            "okhttp-jvm",
            "registry-auth",
            "nimbus-jose-jwt",
            "spring-security-crypto",
            "helidon-webserver");

    private RuntimeClassPath() {}

    /** The artifact ids on this module's runtime class path. */
    public static List<String> artifacts() throws IOException {
        return artifacts(Path.of("target", "runtime-classpath.txt"));
    }

    /**
     * The artifact ids of a class path: a jar in a Maven repository is {@code …/<artifact>/<version>/<jar>},
     * a module of this build {@code …/<module>/target/classes}; either way two levels up.
     */
    public static List<String> artifacts(Path classPathFile) throws IOException {
        String text = Files.readString(classPathFile).strip();
        return List.of(text.split(File.pathSeparator)).stream()
                .map(entry ->
                        Path.of(entry).getParent().getParent().getFileName().toString())
                .toList();
    }
}
