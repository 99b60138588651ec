package io.berth.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BerthConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsThenFileThenEnvironment() throws IOException {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, """
                http:
                  port: 6000
                storage:
                  filesystem:
                    root: /srv/from-file
                uploads:
                  expiry: 2h
                """);
        BerthConfig c = BerthConfig.load(
                Optional.of(file),
                Map.of("BERTH_HTTP_PORT", "5055", "BERTH_STORAGE_FILESYSTEM_ROOT", "/srv/blobs"),
                w -> {});
        assertEquals(5055, c.port(ConfigKeys.HTTP_PORT));
        assertEquals(Path.of("/srv/blobs"), c.path(ConfigKeys.STORAGE_FS_ROOT));
        assertEquals(Duration.ofHours(2), c.duration(ConfigKeys.UPLOADS_EXPIRY));
        assertEquals(5001, c.port(ConfigKeys.ADMIN_PORT));
        assertEquals(4L * 1024 * 1024, c.size(ConfigKeys.MANIFESTS_MAX_SIZE));
        assertEquals("environment BERTH_HTTP_PORT", c.source(ConfigKeys.HTTP_PORT));
        assertEquals(file.toString(), c.source(ConfigKeys.UPLOADS_EXPIRY));
        assertEquals("default", c.source(ConfigKeys.ADMIN_PORT));
    }

    @Test
    void envNamesFollowTheKeys() {
        assertEquals("BERTH_HTTP_PORT", ConfigKeys.HTTP_PORT.envName());
        assertEquals("BERTH_UPLOADS_PURGE_INTERVAL", ConfigKeys.UPLOADS_PURGE_INTERVAL.envName());
        assertEquals("BERTH_STORAGE_FILESYSTEM_ROOT", ConfigKeys.STORAGE_FS_ROOT.envName());
    }

    @Test
    void invalidValuesNameTheKey() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> BerthConfig.load(Optional.empty(), Map.of("BERTH_HTTP_PORT", "abc"), w -> {}));
        assertTrue(e.getMessage().contains("http.port"), e.getMessage());
        assertTrue(e.getMessage().contains("'abc'"), e.getMessage());
        e = assertThrows(
                ConfigException.class,
                () -> BerthConfig.load(Optional.empty(), Map.of("BERTH_STORAGE_TYPE", "floppy"), w -> {}));
        assertTrue(e.getMessage().contains("storage.type"), e.getMessage());
        for (Map.Entry<String, String> bad : Map.of(
                        "BERTH_UPLOADS_EXPIRY",
                        "soon",
                        "BERTH_HTTP_ACCESS_LOG",
                        "maybe",
                        "BERTH_MANIFESTS_MAX_SIZE",
                        "-1",
                        "BERTH_ADMIN_PORT",
                        "70000")
                .entrySet()) {
            assertThrows(
                    ConfigException.class,
                    () -> BerthConfig.load(Optional.empty(), Map.of(bad.getKey(), bad.getValue()), w -> {}),
                    bad.toString());
        }
    }

    @Test
    void thePublicUrlAndLoggerLevelsAreChecked() {
        for (String bad : List.of(
                "registry.example.com",
                "ftp://registry.example.com",
                "https://u:p@registry.example.com",
                "https://registry.example.com/v2",
                "https://registry.example.com?x=1",
                "https://")) {
            ConfigException e =
                    assertThrows(ConfigException.class, () -> BerthConfig.of(Map.of("http.public-url", bad)), bad);
            assertTrue(e.getMessage().startsWith("invalid value '" + bad + "' for http.public-url"), e.getMessage());
        }
        PublicUrl url = BerthConfig.of(Map.of("http.public-url", "HTTPS://Registry.Example.com:443/"))
                .publicUrl(ConfigKeys.HTTP_PUBLIC_URL)
                .orElseThrow();
        assertEquals("https://registry.example.com", url.toString());
        assertEquals("http://[::1]:5000", PublicUrl.parse("http://[::1]:5000").toString());
        assertEquals("::1", PublicUrl.parse("http://[::1]:5000").hostName());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> BerthConfig.of(Map.of(
                        "log.levels", "io.helidon=debug,io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler=trace")));
        assertTrue(e.getMessage().contains("log.levels") && e.getMessage().contains("stays at INFO"), e.getMessage());
    }

    @Test
    void unknownKeysAreWarnedAbout() throws IOException {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, "http:\n  prot: 1\n");
        List<String> warnings = new ArrayList<>();
        BerthConfig.load(Optional.of(file), Map.of("BERTH_NOPE", "1"), warnings::add);
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("http.prot"));
        assertTrue(warnings.get(1).contains("BERTH_NOPE"));
    }

    /** BERTH_AOT=false (bin/berth) made every start-up warn about an unknown configuration variable. */
    @Test
    void variablesOfTheScriptsAreNotWarnedAbout() throws IOException {
        Set<String> configNames = new HashSet<>();
        ConfigKeys.all().forEach(k -> configNames.add(k.envName()));
        Set<String> scriptNames = new TreeSet<>();
        Pattern variable = Pattern.compile("\\bBERTH_[A-Z][A-Z0-9_]*[A-Z0-9]");
        for (String script : List.of("berth", "java-env", "test", "conformance", "bench")) {
            var m = variable.matcher(Files.readString(Path.of("..", "bin", script)));
            while (m.find()) {
                scriptNames.add(m.group());
            }
        }
        assertTrue(scriptNames.contains("BERTH_AOT"), scriptNames.toString());
        for (String name : scriptNames) {
            if (configNames.contains(name)) {
                continue;
            }
            List<String> warnings = new ArrayList<>();
            BerthConfig.load(Optional.empty(), Map.of(name, "x"), warnings::add);
            assertEquals(List.of(), warnings, name);
        }
    }

    @Test
    void brokenYamlIsAConfigError() throws IOException {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, "http: [unclosed\n");
        assertThrows(ConfigException.class, () -> BerthConfig.load(Optional.of(file), Map.of(), w -> {}));
        Files.writeString(file, "- a list\n");
        assertThrows(ConfigException.class, () -> BerthConfig.load(Optional.of(file), Map.of(), w -> {}));
    }

    @Test
    void everySpellingOfSizesAndDurationsThatTheDocsList() {
        for (String spelling :
                new String[] {"4194304", "4096KiB", "4096k", "4096KB", "4MiB", "4mib", "4M", "4MB", "4 MiB"}) {
            assertEquals(
                    4L << 20,
                    BerthConfig.of(Map.of("manifests.max-size", spelling)).size(ConfigKeys.MANIFESTS_MAX_SIZE),
                    spelling);
        }
        assertEquals(
                Duration.ofMillis(250),
                BerthConfig.of(Map.of("metadata.pull-flush-interval", "250ms"))
                        .duration(ConfigKeys.PULLS_FLUSH_INTERVAL));
        for (Map.Entry<String, Duration> d : Map.of(
                        "90s",
                        Duration.ofSeconds(90),
                        "90m",
                        Duration.ofMinutes(90),
                        "7d",
                        Duration.ofDays(7),
                        "2 h",
                        Duration.ofHours(2))
                .entrySet()) {
            assertEquals(
                    d.getValue(),
                    BerthConfig.of(Map.of("uploads.expiry", d.getKey())).duration(ConfigKeys.UPLOADS_EXPIRY),
                    d.getKey());
        }
        for (String b : new String[] {"true", "yes", "on", "1"}) {
            assertTrue(BerthConfig.of(Map.of("manifests.allow-sparse", b)).bool(ConfigKeys.MANIFESTS_ALLOW_SPARSE));
        }
    }

    @Test
    void valuesOutsideTheirRangeOrTooLargeToHoldAreRefusedWithTheRange() {
        Map<String, String> refused = Map.of(
                "manifests.max-size", "9999999999GiB",
                "uploads.max-concurrent", "99999999999999999999",
                "uploads.expiry", "106751991167301d",
                "http.shutdown-timeout", "99999999999999999999s",
                "listing.max-page-size", "0",
                "http.port", "65536",
                "uploads.purge-interval", "1h30m",
                "manifests.max-references", "-1");
        refused.forEach((key, value) -> {
            ConfigException e =
                    assertThrows(ConfigException.class, () -> BerthConfig.of(Map.of(key, value)), key + "=" + value);
            assertTrue(
                    e.getMessage().startsWith("invalid value '" + value + "' for " + key + " (from settings): "),
                    e.getMessage());
        });
        ConfigException size =
                assertThrows(ConfigException.class, () -> BerthConfig.of(Map.of("manifests.max-size", "65MiB")));
        assertTrue(size.getMessage().endsWith("must be from 1KiB to 64MiB"), size.getMessage());
        ConfigException expiry =
                assertThrows(ConfigException.class, () -> BerthConfig.of(Map.of("uploads.expiry", "0s")));
        assertTrue(expiry.getMessage().endsWith("must be from 1s to 365d"), expiry.getMessage());
    }
}
