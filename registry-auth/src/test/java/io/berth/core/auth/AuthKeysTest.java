package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey;
import io.berth.testsupport.ConfigDocs;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** This module owns {@code auth.*}: installed, its keys are known and documented, where help always listed them. */
class AuthKeysTest {
    @Test
    void theKeysAreInstalledWhereTheyWereAndDocumented() throws IOException {
        ConfigDocs.assertInstalledAndDocumented(new AuthKeys());
        assertEquals(14, AuthKeys.ALL.size());
        assertTrue(AuthKeys.ALL.stream().allMatch(k -> k.name().startsWith("auth.")));
        assertTrue(AuthKeys.ALL.stream().noneMatch(ConfigKey::secret), "paths and names, no secret");
    }
}
