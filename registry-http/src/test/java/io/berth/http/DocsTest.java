package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.error.ErrorCode;
import io.berth.testsupport.ConfigDocs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The docs stay true to the code: every configuration key and every error code is documented. */
class DocsTest {
    static String doc(String name) throws IOException {
        return Files.readString(Path.of("..", "docs", name));
    }

    /**
     * Every key on this class path: the core's and those of the modules this one stands on. The
     * backend modules (storage-s3, metadata-postgres) check their own keys ({@code S3KeysTest},
     * {@code PostgresKeysTest}).
     */
    @Test
    void configurationPageListsEveryKey() throws IOException {
        String page = doc("configuration.md");
        for (ConfigKey k : ConfigKeys.all()) {
            assertTrue(page.contains(ConfigDocs.row(k)), "docs/configuration.md lacks: " + ConfigDocs.row(k));
        }
    }

    @Test
    void apiPageListsEveryErrorCodeWithItsStatus() throws IOException {
        String page = doc("api.md");
        for (ErrorCode c : ErrorCode.values()) {
            String row = "| `" + c.wireCode() + "` | " + OciErrors.status(c) + " |";
            assertTrue(page.contains(row), "docs/api.md lacks: " + row + " (" + c + ")");
        }
    }

    /**
     * docs/security.md names limits as {@code `key` (default)}: each key exists and its default is
     * today's, and each test class it names exists. A key of a module not on this class path (S3's)
     * is checked against its row in docs/configuration.md, which that module's test checks against
     * its code.
     */
    @Test
    void securityPageNamesRealKeysWithTheirDefaultsAndRealTests() throws IOException {
        String page = doc("security.md");
        String configuration = doc("configuration.md");
        Matcher m =
                Pattern.compile("`([a-z0-9-]+\\.[a-z0-9.-]+)` \\(([^); ]+)[);]").matcher(page);
        int keys = 0;
        while (m.find()) {
            String name = m.group(1);
            String documented =
                    ConfigKeys.byName(name).map(ConfigKey::defaultValue).orElse(null);
            Matcher row = Pattern.compile("\\| `" + Pattern.quote(name) + "` \\| `[A-Z0-9_]+` \\| `([^`]*)` \\|")
                    .matcher(configuration);
            if (documented == null && row.find()) {
                documented = row.group(1);
            }
            assertTrue(documented != null, "docs/security.md names an unknown key: " + name);
            String shown = m.group(2);
            assertTrue(
                    shown.equals(documented) || (shown.equals("off") && documented.equals("0")),
                    "docs/security.md gives " + name + " the default " + shown + ", the code " + documented);
            keys++;
        }
        assertTrue(keys >= 20, "keys with defaults found in docs/security.md: " + keys);
        Matcher t = Pattern.compile("`([A-Z][A-Za-z]+(?:Test|Benchmark))[.`]").matcher(page);
        while (t.find()) {
            String name = t.group(1) + ".java";
            assertTrue(
                    testSources().stream()
                            .anyMatch(f -> f.getFileName().toString().equals(name)),
                    "docs/security.md names a test that does not exist: " + t.group(1));
        }
    }

    /**
     * CONTRIBUTING.md is a map: every class it names (a capitalised word in backticks, or the class
     * part of {@code Class.method}) is a source file of some module, and every path it names exists.
     */
    @Test
    void contributingNamesRealClassesAndPaths() throws IOException {
        String page = Files.readString(Path.of("..", "CONTRIBUTING.md"));
        Set<String> sources = new HashSet<>();
        try (Stream<Path> modules = Files.list(Path.of(".."))) {
            for (Path m : modules.map(d -> d.resolve("src"))
                    .filter(Files::isDirectory)
                    .toList()) {
                try (Stream<Path> files = Files.walk(m)) {
                    files.map(f -> f.getFileName().toString())
                            .filter(n -> n.endsWith(".java"))
                            .forEach(n -> sources.add(n.substring(0, n.length() - 5)));
                }
            }
        }
        Matcher code = Pattern.compile("`([^`]+)`").matcher(page);
        int classes = 0;
        int paths = 0;
        while (code.find()) {
            String token = code.group(1);
            if (token.matches("[A-Z][A-Za-z0-9]+(\\.[a-z][A-Za-z0-9]*)?")) {
                String cls = token.split("\\.")[0];
                assertTrue(sources.contains(cls), "CONTRIBUTING.md names a class that does not exist: " + token);
                classes++;
            } else if (token.matches("[a-z.][\\w.-]*/[\\w./-]+")) {
                assertTrue(
                        Files.exists(Path.of("..", token)),
                        "CONTRIBUTING.md names a path that does not exist: " + token);
                paths++;
            }
        }
        assertTrue(classes > 20 && paths > 3, "the page was read: " + classes + " classes, " + paths + " paths");
    }

    private static List<Path> testSources;

    /** Every file under a module's src/test (not target/ nor anything else). */
    static synchronized List<Path> testSources() throws IOException {
        if (testSources == null) {
            List<Path> all = new ArrayList<>();
            try (Stream<Path> modules = Files.list(Path.of(".."))) {
                for (Path m : modules.map(d -> d.resolve("src/test"))
                        .filter(Files::isDirectory)
                        .toList()) {
                    try (Stream<Path> files = Files.walk(m)) {
                        files.filter(Files::isRegularFile).forEach(all::add);
                    }
                }
            }
            testSources = all;
        }
        return testSources;
    }
}
