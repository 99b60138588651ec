package io.berth.http.helidon;

import io.helidon.common.buffers.DataReader;
import io.helidon.common.socket.PeerInfo;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Keeps the fast paths off unless Helidon is the version they were tested with. A Helidon that
 * keeps a field and changes what it means would pass the guard tests (they prove the fields exist)
 * and could then desynchronise keep-alive connections; so the version of each jar whose internals
 * the fence reaches is read at start-up and compared with {@link #TESTED}.
 *
 * <p>{@link #TESTED} is a literal on purpose, not a value filtered from the pom: whoever bumps
 * Helidon must re-run the guard and differential tests and then change it by hand
 * ({@code VersionGateTest} fails while the pom's {@code version.helidon} differs from it).
 */
final class VersionGate {
    /** The Helidon version the fast paths were tested with. */
    static final String TESTED = "4.5.0";

    private static final System.Logger LOG = System.getLogger(VersionGate.class.getName());

    /** A jar whose internals the fence reaches: one of its classes, and its Maven coordinates. */
    record Jar(Class<?> member, String groupId, String artifactId) {}

    /** webserver: the request and connection fields; buffers: the reader's nodes; socket: the sockets. */
    static final List<Jar> REACHED = List.of(
            new Jar(WebServer.class, "io.helidon.webserver", "helidon-webserver"),
            new Jar(DataReader.class, "io.helidon.common", "helidon-common-buffers"),
            new Jar(PeerInfo.class, "io.helidon.common", "helidon-common-socket"));

    /**
     * What the gate decided.
     *
     * @param open    every jar is the tested version: the fast paths may be on
     * @param found   the versions found, for the warning ("4.6.0", or "unknown")
     * @param warning the one line to log when closed
     */
    record Verdict(boolean open, String found, Optional<String> warning) {}

    private VersionGate() {}

    /** The verdict on the Helidon this process runs; decided, and when closed logged at WARN, once. */
    static Verdict running() {
        return Running.VERDICT;
    }

    private static final class Running {
        static final Verdict VERDICT =
                judge(REACHED.stream().map(VersionGate::version).toList());

        static {
            VERDICT.warning().ifPresent(w -> LOG.log(System.Logger.Level.WARNING, w));
        }
    }

    /** The verdict on jars of these versions (empty: could not be read). */
    static Verdict judge(List<Optional<String>> versions) {
        List<String> other = new ArrayList<>();
        for (Optional<String> v : versions) {
            String s = v.orElse("of unknown version");
            if (!s.equals(TESTED) && !other.contains(s)) {
                other.add(s);
            }
        }
        if (!versions.isEmpty() && other.isEmpty()) {
            return new Verdict(true, TESTED, Optional.empty());
        }
        String found = other.isEmpty() ? "of unknown version" : String.join(" and ", other);
        return new Verdict(
                false,
                found,
                Optional.of("Helidon " + found + " is not the version the fast paths were" + " tested with (" + TESTED
                        + "): sendfile, socket reads and reader unlinking are off"));
    }

    /** The version of {@code jar} as the class path holds it. */
    static Optional<String> version(Jar jar) {
        try {
            var source = jar.member().getProtectionDomain().getCodeSource();
            return source == null ? Optional.empty() : version(source.getLocation(), jar.groupId(), jar.artifactId());
        } catch (RuntimeException unreadable) {
            return Optional.empty();
        }
    }

    /**
     * The version of the jar (or class directory) at {@code location}: its manifest's
     * {@code Implementation-Version}, else the {@code version} of its
     * {@code META-INF/maven/<groupId>/<artifactId>/pom.properties}; empty when neither can be read.
     */
    static Optional<String> version(URL location, String groupId, String artifactId) {
        String pomProperties = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try {
            Path path = Path.of(location.toURI());
            if (Files.isDirectory(path)) {
                Path manifest = path.resolve("META-INF/MANIFEST.MF");
                if (Files.isRegularFile(manifest)) {
                    try (InputStream in = Files.newInputStream(manifest)) {
                        Optional<String> v = implementationVersion(new Manifest(in));
                        if (v.isPresent()) {
                            return v;
                        }
                    }
                }
                Path pom = path.resolve(pomProperties);
                if (Files.isRegularFile(pom)) {
                    try (InputStream in = Files.newInputStream(pom)) {
                        return pomVersion(in);
                    }
                }
                return Optional.empty();
            }
            try (JarFile jarFile = new JarFile(path.toFile())) {
                Optional<String> v =
                        jarFile.getManifest() == null ? Optional.empty() : implementationVersion(jarFile.getManifest());
                if (v.isPresent()) {
                    return v;
                }
                var entry = jarFile.getJarEntry(pomProperties);
                if (entry != null) {
                    try (InputStream in = jarFile.getInputStream(entry)) {
                        return pomVersion(in);
                    }
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException unreadable) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<String> implementationVersion(Manifest manifest) {
        return Optional.ofNullable(manifest.getMainAttributes().getValue("Implementation-Version"))
                .map(String::trim)
                .filter(v -> !v.isEmpty());
    }

    private static Optional<String> pomVersion(InputStream in) throws IOException {
        Properties p = new Properties();
        p.load(in);
        return Optional.ofNullable(p.getProperty("version")).map(String::trim).filter(v -> !v.isEmpty());
    }
}
