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
}
