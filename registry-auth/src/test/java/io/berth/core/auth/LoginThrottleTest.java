package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.model.ClientGroup;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Allowances of failed logins per client, counted the way the connection caps count clients. */
class LoginThrottleTest {
    @Test
    void anIpv6HostSpendsOneAllowanceForItsWholeSlash64() {
        LoginThrottle t = new LoginThrottle(new LoginLimits(3, 1000, Duration.ofHours(1), 1), () -> 0L);
        for (int i = 1; i <= 3; i++) {
            assertTrue(t.reserve("2001:db8:1:2::" + Integer.toHexString(i), "u" + i)
                    .isEmpty());
        }
        // before: every address of the /64 had an allowance of its own — 2^64 of them
        assertTrue(t.reserve("2001:db8:1:2:ffff::9", "u9").isPresent(), "the 4th guess from the same /64");
        assertTrue(t.reserve("2001:db8:1:3::1", "u10").isEmpty(), "the next /64 is another client");
        assertTrue(t.reserve("192.0.2.1", "u11").isEmpty());
    }

    @Test
    void groupsAreAddressesForIpv4AndSlash64sForIpv6() {
        assertEquals("192.0.2.7", ClientGroup.of("192.0.2.7"));
        assertEquals("2001:db8:1:2::/64", ClientGroup.of("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assertEquals("2001:db8:1:2::/64", ClientGroup.of("2001:0db8:0001:0002::1%eth0"));
        assertEquals("0:0:0:0::/64", ClientGroup.of("::1"));
        assertEquals("unknown", ClientGroup.of("unknown"));
        assertEquals("not:an:address:x", ClientGroup.of("not:an:address:x"));
    }
}
