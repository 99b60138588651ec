package io.berth.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey.Type;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keys owned by other modules ({@link ConfigKeySet}) take the place they name among the core's,
 * whatever order the class path gives the sets in, and add their values to the core's choices.
 */
class ConfigKeySetTest {
    static final ConfigKey A = new ConfigKey("a", "1", Type.TEXT, "A.");
    static final ConfigKey TYPE = ConfigKey.choice("b.type", "one", List.of("one"), "Which b.");
    static final ConfigKey C = new ConfigKey("c", "3", Type.TEXT, "C.");
    static final List<ConfigKey> CORE = List.of(A, TYPE, C);

    /** A set of keys after {@code after}, adding {@code choices}; its class name orders it among others. */
    record Head(List<ConfigKey> keys, String after, Map<String, List<String>> choices) implements ConfigKeySet {}

    /** The same with another class name, sorting after {@link Head}. */
    record Tail(List<ConfigKey> keys, String after, Map<String, List<String>> choices) implements ConfigKeySet {}

    static ConfigKey key(String name) {
        return new ConfigKey(name, "", Type.TEXT, name + ".");
    }

    static List<String> names(List<ConfigKey> keys) {
        return keys.stream().map(ConfigKey::name).toList();
    }

    @Test
    void aSetsKeysFollowTheKeyItNamesAndItsChoicesAreAdmitted() {
        ConfigKeySet two =
                new Head(List.of(key("b.two.x"), key("b.two.y")), "b.type", Map.of("b.type", List.of("two")));
        List<ConfigKey> all = ConfigKeys.merge(CORE, List.of(two));
        assertEquals(List.of("a", "b.type", "b.two.x", "b.two.y", "c"), names(all));
        assertEquals(List.of("one", "two"), all.get(1).choices());
        assertEquals("one of one, two", all.get(1).range());
        assertEquals(List.of("one"), TYPE.choices(), "the core's constant is left as it is");
        assertEquals(CORE, ConfigKeys.merge(CORE, List.of()), "without sets, the core's keys as they are");
    }

    @Test
    void theOrderDoesNotHangOnTheClassPath() {
        ConfigKeySet first = new Head(List.of(key("x")), "a", Map.of("b.type", List.of("x")));
        ConfigKeySet second = new Tail(List.of(key("y")), "a", Map.of("b.type", List.of("y")));
        // a set may follow a key of another set
        ConfigKeySet chained = new Tail(List.of(key("z")), "c.more", Map.of());
        ConfigKeySet more = new Head(List.of(key("c.more")), "c", Map.of());
        List<ConfigKey> one = ConfigKeys.merge(CORE, List.of(first, second, chained, more));
        List<ConfigKey> other = ConfigKeys.merge(CORE, List.of(more, chained, second, first));
        assertEquals(List.of("a", "x", "y", "b.type", "c", "c.more", "z"), names(one));
        assertEquals(one, other);
        assertEquals(List.of("one", "x", "y"), one.get(3).choices());
    }

    @Test
    void aBuildThatDefinesAKeyTwiceOrPlacesOneNowhereFailsAtOnce() {
        String twice = assertThrows(
                        IllegalStateException.class,
                        () -> ConfigKeys.merge(CORE, List.of(new Head(List.of(key("c")), "a", Map.of()))))
                .getMessage();
        assertTrue(twice.startsWith("configuration key c is defined twice"), twice);
        String nowhere = assertThrows(
                        IllegalStateException.class,
                        () -> ConfigKeys.merge(CORE, List.of(new Head(List.of(key("x")), "nobody", Map.of()))))
                .getMessage();
        assertTrue(
                nowhere.startsWith("configuration key sets follow keys nobody defines")
                        && nowhere.contains("after nobody"),
                nowhere);
        String choice = assertThrows(
                        IllegalStateException.class,
                        () -> ConfigKeys.merge(CORE, List.of(new Head(List.of(), "a", Map.of("d.type", List.of("x"))))))
                .getMessage();
        assertTrue(choice.endsWith("adds choices to d.type, which nobody defines"), choice);
        String notChoice = assertThrows(
                        IllegalArgumentException.class,
                        () -> ConfigKeys.merge(CORE, List.of(new Head(List.of(), "a", Map.of("a", List.of("x"))))))
                .getMessage();
        assertEquals("a is not a choice: no values can be added to it", notChoice);
        String again = assertThrows(
                        IllegalArgumentException.class,
                        () -> ConfigKeys.merge(
                                CORE, List.of(new Head(List.of(), "a", Map.of("b.type", List.of("one"))))))
                .getMessage();
        assertEquals("b.type admits one twice", again);
    }

    @Test
    void aSecretKeyStaysWhatItIsButSecret() {
        ConfigKey secret = key("p").asSecret();
        assertTrue(secret.secret());
        assertEquals(
                key("p"),
                new ConfigKey(
                        secret.name(),
                        secret.defaultValue(),
                        secret.type(),
                        secret.description(),
                        secret.choices(),
                        secret.min(),
                        secret.max(),
                        false));
    }
}
