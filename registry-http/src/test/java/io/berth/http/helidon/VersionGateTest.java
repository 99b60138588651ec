package io.berth.http.helidon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.helidon.webserver.WebServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast paths are on only with the Helidon they were tested with: the build's Helidon is
 * {@link VersionGate#TESTED} (a bump fails here until someone re-runs the guard and differential
 * tests and changes it), the running one is read from its jars, and a jar of another version (or
 * of none that can be read) turns every fast path off with one warning — the server then serves
 * through Helidon's public paths.
 */
class VersionGateTest {
    @TempDir
    Path dir;

    @Test
    void thePinnedHelidonIsTheTestedOne() throws Exception {
        Properties pom = new Properties();
        try (InputStream in = VersionGateTest.class.getResourceAsStream("/helidon-version.properties")) {
            pom.load(in);
        }
        assertEquals(
                VersionGate.TESTED,
                pom.getProperty("version.helidon"),
                "the pom's version.helidon differs "
                        + "from VersionGate.TESTED: re-run the guard and differential tests (ConsumedReadsTest, "
                        + "SendfileTest, SocketBodyTest, SocketReadsDifferentialTest) on the new Helidon, then change TESTED");
    }

    @Test
    void theRunningHelidonIsTheTestedOneAndEveryFastPathIsOn() {
        for (VersionGate.Jar jar : VersionGate.REACHED) {
            assertEquals(Optional.of(VersionGate.TESTED), VersionGate.version(jar), jar.artifactId());
        }
        assertTrue(VersionGate.running().open());
        assertEquals(
                "fast paths sendfile, socket-reads, reader-unlinking",
                HelidonFastPaths.detect(true, true).describe());
        assertEquals(
                "fast paths reader-unlinking",
                HelidonFastPaths.detect(false, false).describe());
    }

    private Path jar(String name, String implementationVersion, String pomVersion) throws Exception {
        Path jar = dir.resolve(name);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (implementationVersion != null) {
            manifest.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_VERSION, implementationVersion);
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            if (pomVersion != null) {
                out.putNextEntry(new JarEntry("META-INF/maven/io.helidon.webserver/helidon-webserver/pom.properties"));
                out.write(("groupId=io.helidon.webserver\nartifactId=helidon-webserver\nversion=" + pomVersion + "\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        return jar;
    }

    private Optional<String> versionOf(Path jar) throws Exception {
        return VersionGate.version(jar.toUri().toURL(), "io.helidon.webserver", "helidon-webserver");
    }

    @Test
    void theVersionComesFromTheManifestElseFromPomProperties() throws Exception {
        assertEquals(Optional.of("4.6.0"), versionOf(jar("manifest.jar", "4.6.0", "4.4.0")));
        assertEquals(Optional.of("4.5.1"), versionOf(jar("pom.jar", null, "4.5.1")));
        assertEquals(Optional.empty(), versionOf(jar("neither.jar", null, null)));
        assertEquals(Optional.empty(), versionOf(dir.resolve("missing.jar")));
    }

    @Test
    void anotherVersionTurnsEveryFastPathOffWithOneWarning() throws Exception {
        VersionGate.Verdict other = VersionGate.judge(List.of(
                Optional.of(VersionGate.TESTED),
                versionOf(jar("newer.jar", "4.6.0", null)),
                Optional.of(VersionGate.TESTED)));
        assertFalse(other.open());
        assertEquals(
                Optional.of("Helidon 4.6.0 is not the version the fast paths were tested with (" + VersionGate.TESTED
                        + "): sendfile, socket reads and reader unlinking are off"),
                other.warning());
        VersionGate.Verdict unreadable = VersionGate.judge(
                List.of(Optional.of(VersionGate.TESTED), Optional.empty(), Optional.of(VersionGate.TESTED)));
        assertFalse(unreadable.open());
        assertTrue(
                unreadable.warning().orElseThrow().startsWith("Helidon of unknown version is not"),
                unreadable.warning().orElseThrow());
        assertTrue(VersionGate.judge(List.of(Optional.of(VersionGate.TESTED)))
                .warning()
                .isEmpty());

        HelidonFastPaths off = HelidonFastPaths.detect(true, true, other);
        assertSame(HelidonFastPaths.OFF, off);
        assertFalse(off.sendfileOn() || off.socketReadsOn() || off.unlinkingOn());
        assertEquals("fast paths off", off.describe());
    }

    /** With the gate closed, a large body is read and a file is sent through Helidon's public paths. */
    @Test
    void withTheGateClosedTheServerServesThroughHelidonsPublicPaths() throws Exception {
        HelidonFastPaths off = HelidonFastPaths.detect(true, true, VersionGate.judge(List.of(Optional.of("4.6.0"))));
        byte[] body = new byte[3 << 20];
        new Random(3).nextBytes(body);
        Path file = dir.resolve("blob");
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .routing(r -> r.post("/body", (req, res) -> {
                            off.releaseConsumed(req);
                            try (InputStream in = req.content().inputStream()) {
                                assertTrue(off.socketBody(req, in).isEmpty());
                                Files.write(file, in.readAllBytes());
                            }
                            res.send("stored");
                        })
                        .get("/body", (req, res) -> {
                            assertTrue(off.fileSender(req).isEmpty());
                            try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ);
                                    OutputStream out = res.outputStream()) {
                                out.write(Channels.newInputStream(fc).readAllBytes());
                            }
                        }))
                .build()
                .start();
        try {
            HttpClient client =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/body");
            HttpResponse<String> put = client.send(
                    HttpRequest.newBuilder(uri)
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, put.statusCode(), put.body());
            HttpResponse<byte[]> get =
                    client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, get.statusCode());
            assertArrayEquals(body, get.body());
        } finally {
            server.stop();
        }
    }
}
