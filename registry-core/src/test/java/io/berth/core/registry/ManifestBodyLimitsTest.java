package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Manifest bodies held in memory at once: bounded in all and per client, and large bodies kept out of
 * the last quarter of the budget, which stays for the small manifests real clients push.
 */
class ManifestBodyLimitsTest {
    static final long MAX = 6400;
    final ManifestBodyLimits limits = new ManifestBodyLimits(MAX, 5000);

    static Caller client(int i) {
        return Caller.at("10.0.0." + i);
    }

    @Test
    void largeBodiesTakeThreeQuartersAtMostAndSmallOnesTheRest() {
        // 100 bytes is a 64th of the budget: still small
        Manifests.BodyPermit large1 = limits.reserve(client(1), 2400);
        Manifests.BodyPermit large2 = limits.reserve(client(2), 2400);
        RegistryException e = assertThrows(RegistryException.class, () -> limits.reserve(client(3), 101));
        assertEquals(ErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(
                "the registry holds 4800 bytes of manifest bodies of this size at most (manifests.max-buffered); "
                        + "retry later",
                e.getMessage());
        assertEquals(Map.of("setting", "manifests.max-buffered", "limit", MAX), e.detail());
        assertEquals(4800, limits.inUse(), "a refused body holds nothing");
        Manifests.BodyPermit small = limits.reserve(client(3), 100);
        for (int i = 0; i < 15; i++) {
            limits.reserve(client(10 + i), 100);
        }
        assertEquals(MAX, limits.inUse(), "small bodies fill the budget to the byte");
        assertEquals(
                "the registry holds 6400 bytes of manifest bodies at most (manifests.max-buffered); retry later",
                assertThrows(RegistryException.class, () -> limits.reserve(client(3), 1))
                        .getMessage());
        large1.close();
        small.close();
        assertEquals(MAX - 2500, limits.inUse());
        large2.close();
    }

    @Test
    void oneBodyLargerThanThreeQuartersMayStillComeAlone() {
        Manifests.BodyPermit whole = new ManifestBodyLimits(MAX, MAX).reserve(client(1), MAX);
        whole.close();
    }

    @Test
    void aClientBeyondItsShareIsRefusedWhileOthersGoOn() {
        Manifests.BodyPermit mine = limits.reserve(client(1), 2400);
        Manifests.BodyPermit[] small = new Manifests.BodyPermit[26];
        for (int i = 0; i < small.length; i++) {
            small[i] = limits.reserve(client(1), 100);
        }
        RegistryException e = assertThrows(RegistryException.class, () -> limits.reserve(client(1), 1));
        assertEquals(
                "client 10.0.0.1 may have 5000 bytes of manifest bodies in flight at most "
                        + "(manifests.max-buffered-per-client); retry later",
                e.getMessage());
        assertEquals(Map.of("setting", "manifests.max-buffered-per-client", "limit", 5000L), e.detail());
        assertEquals(5000, limits.inUse(), "the refused body is given back");
        limits.reserve(client(2), 100).close();
        small[0].close();
        limits.reserve(client(1), 100).close();
        mine.close();
        for (int i = 1; i < small.length; i++) {
            small[i].close();
        }
        assertEquals(0, limits.inUse());
        limits.reserve(client(1), 2400).close();
    }

    @Test
    void aPermitClosedTwiceGivesItsBytesBackOnce() {
        Manifests.BodyPermit held = limits.reserve(client(1), 2400);
        Manifests.BodyPermit twice = limits.reserve(client(2), 100);
        twice.close();
        twice.close();
        assertEquals(2400, limits.inUse());
        held.close();
        assertEquals(0, limits.inUse());
    }

    @Test
    void refusedLargeBodiesNeverCrowdOutASmallOneEvenForAnInstant() throws Exception {
        // large bodies from 16 addresses hammer the budget while it is full to their ceiling; each of
        // their attempts is refused, and none of them may make a small body fail
        ManifestBodyLimits shared = new ManifestBodyLimits(MAX, MAX);
        Manifests.BodyPermit held = shared.reserve(client(1), 4800);
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> crowd = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            Caller c = client(20 + t);
            crowd.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    assertThrows(RegistryException.class, () -> shared.reserve(c, 1600));
                }
            }));
        }
        try {
            for (int i = 0; i < 200_000; i++) {
                shared.reserve(client(2), 100).close();
            }
        } finally {
            stop.set(true);
            for (Thread t : crowd) {
                t.join();
            }
        }
        held.close();
        assertEquals(0, shared.inUse());
    }
}
