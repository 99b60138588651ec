package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.error.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The docs stay true to the code: every configuration key and every error code is documented. */
class DocsTest {
    static String doc(String name) throws IOException {
        return Files.readString(Path.of("..", "docs", name));
    }

    @Test
    void configurationPageListsEveryKey() throws IOException {
        String page = doc("configuration.md");
        for (ConfigKey k : ConfigKeys.ALL) {
            String row = "| `" + k.name() + "` | `" + k.envName() + "` | `" + k.defaultValue() + "` |";
            assertTrue(page.contains(row), "docs/configuration.md lacks: " + row);
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
     * today's, and each test class it names exists.
     */
    @Test
    void securityPageNamesRealKeysWithTheirDefaultsAndRealTests() throws IOException {
        String page = doc("security.md");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("`([a-z0-9-]+\\.[a-z0-9.-]+)` \\(([^); ]+)[);]")
                .matcher(page);
        int keys = 0;
        while (m.find()) {
            String name = m.group(1);
            ConfigKey key = ConfigKeys.ALL.stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
            assertTrue(key != null, "docs/security.md names an unknown key: " + name);
            String shown = m.group(2);
            assertTrue(shown.equals(key.defaultValue()) || (shown.equals("off") && key.defaultValue().equals("0")),
                    "docs/security.md gives " + name + " the default " + shown + ", the code " + key.defaultValue());
            keys++;
        }
        assertTrue(keys >= 20, "keys with defaults found in docs/security.md: " + keys);
        java.util.regex.Matcher t = java.util.regex.Pattern.compile("`([A-Z][A-Za-z]+(?:Test|Benchmark))[.`]")
                .matcher(page);
        while (t.find()) {
            String name = t.group(1) + ".java";
            try (java.util.stream.Stream<Path> files = Files.walk(Path.of(".."), 12)) {
                assertTrue(files.anyMatch(f -> f.getFileName().toString().equals(name)
                        && f.toString().contains("/src/test/")), "docs/security.md names a test that does not exist: "
                        + t.group(1));
            }
        }
    }
}
