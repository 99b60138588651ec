package io.berth.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeySet;
import io.berth.core.config.ConfigKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

/**
 * {@code docs/configuration.md}, where users read every key whichever module owns it: each module
 * checks its own keys there ({@link #assertInstalledAndDocumented}), on a class path that has them.
 */
public final class ConfigDocs {
    private ConfigDocs() {}

    /** The page, read from a module's directory (where the tests run). */
    public static String page() throws IOException {
        return Files.readString(Path.of("..", "docs", "configuration.md"));
    }

    /** The start of a key's row in the page's table: name, variable, default. */
    public static String row(ConfigKey k) {
        return "| `" + k.name() + "` | `" + k.envName() + "` | `" + k.defaultValue() + "` |";
    }

    /**
     * {@code set} is registered for {@link ServiceLoader}, so {@link ConfigKeys#all()} holds its keys
     * where it says, right after {@link ConfigKeySet#after()}, with its choices admitted, and the page
     * documents each key.
     */
    public static void assertInstalledAndDocumented(ConfigKeySet set) throws IOException {
        assertTrue(
                ServiceLoader.load(ConfigKeySet.class).stream().anyMatch(p -> p.type() == set.getClass()),
                set.getClass().getName() + " is not in META-INF/services/" + ConfigKeySet.class.getName());
        List<String> all = ConfigKeys.all().stream().map(ConfigKey::name).toList();
        int at = all.indexOf(set.after()) + 1;
        assertTrue(at > 0 && at + set.keys().size() <= all.size(), set.after());
        assertEquals(
                set.keys().stream().map(ConfigKey::name).toList(),
                all.subList(at, at + set.keys().size()),
                "the keys follow " + set.after());
        set.choices()
                .forEach((key, values) -> assertTrue(
                        ConfigKeys.byName(key).orElseThrow().choices().containsAll(values), key + " admits " + values));
        String page = page();
        for (ConfigKey k : set.keys()) {
            assertTrue(page.contains(row(k)), "docs/configuration.md lacks: " + row(k));
        }
    }
}
