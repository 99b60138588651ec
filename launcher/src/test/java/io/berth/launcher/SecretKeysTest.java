package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.core.logging.Redaction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code berth serve} masks the value of every key marked secret, whichever module owns it: the
 * launcher names none of them, so a backend's password is masked as soon as its module is installed.
 */
class SecretKeysTest {
    @Test
    void everySecretKeysValueIsMaskedInLogLines() {
        List<ConfigKey> secret =
                ConfigKeys.all().stream().filter(ConfigKey::secret).toList();
        // the backends' passwords, where this build carries their modules (-Dminimal leaves them out)
        List<String> expected = Stream.of("admin.tokens", "storage.s3.secret-key", "metadata.postgres.password")
                .filter(n -> ConfigKeys.byName(n).isPresent())
                .toList();
        assertEquals(
                expected,
                secret.stream()
                        .map(ConfigKey::name)
                        .sorted((a, b) -> expected.indexOf(a) - expected.indexOf(b))
                        .toList());
        Map<String, String> settings = new HashMap<>();
        secret.forEach(
                k -> settings.put(k.name(), "pw-" + Integer.toHexString(k.name().hashCode()) + "-Qx81zr"));
        // a list: each item is a secret, a read-only token without its "ro:"
        settings.put("admin.tokens", "adm-Qx81zr-first,ro:adm-Qx81zr-reader");
        ServeCommand.maskSecrets(BerthConfig.of(settings));
        for (ConfigKey k : secret) {
            for (String value : settings.get(k.name()).replace("ro:", "").split(",")) {
                assertEquals(
                        "cannot log in with REDACTED at 127.0.0.1:1",
                        Redaction.redact("cannot log in with " + value + " at 127.0.0.1:1"),
                        k.name());
            }
        }
    }
}
