package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Upload bodies streaming at once: bounded in all and per client, refused at once with 429, freed when done. */
class UploadLimitsTest {
    final Caller a = Caller.at("10.0.0.1");
    final Caller b = Caller.at("10.0.0.2");

    @Test
    void aClientBeyondItsShareIsRefusedWhileTheRegistryIsBusy() {
        UploadLimits limits = new UploadLimits(10, 2); // borrowing while fewer than 10 - max(2, 2) = 8 stream
        List<UploadLimits.Permit> others = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            others.add(limits.enter(Caller.at("10.0.1." + i)));
        }
        UploadLimits.Permit one = limits.enter(a);
        UploadLimits.Permit two = limits.enter(a);
        RegistryException e = assertThrows(RegistryException.class, () -> limits.enter(a));
        assertEquals(ErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(
                "client 10.0.0.1 is sending 2 uploads at once, beyond its share (uploads.max-concurrent-per-client 2)"
                        + " while the registry is busy; retry later",
                e.getMessage());
        assertEquals(Map.of("setting", "uploads.max-concurrent-per-client", "limit", 2), e.detail());
        assertEquals(8, limits.inProgress(), "a refused upload holds no place");
        limits.enter(b).close();
        one.close();
        limits.enter(a).close();
        two.close();
        others.forEach(UploadLimits.Permit::close);
        assertEquals(0, limits.inProgress());
    }

    @Test
    void anIdleRegistryLendsItsRoomToABurstFromOneClientButKeepsAReserve() {
        // 128 in all, 16 per client: one address may borrow until 128 - max(16, 32) = 96 stream
        UploadLimits limits = new UploadLimits(128, 16);
        List<UploadLimits.Permit> burst = new ArrayList<>();
        int refused = 0;
        for (int i = 0; i < 150; i++) { // 150 stalled uploads from one address
            try {
                burst.add(limits.enter(a));
            } catch (RegistryException e) {
                refused++;
            }
        }
        assertEquals(96, burst.size());
        assertEquals(54, refused);
        // the reserve: two other clients each get their whole share
        List<UploadLimits.Permit> others = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            others.add(limits.enter(b));
            others.add(limits.enter(Caller.at("10.0.0.3")));
        }
        assertEquals(128, limits.inProgress());
        assertThrows(RegistryException.class, () -> limits.enter(Caller.at("10.0.0.4")));
        burst.forEach(UploadLimits.Permit::close);
        others.forEach(UploadLimits.Permit::close);
        assertEquals(0, limits.inProgress());
    }

    @Test
    void aCrowdOfRefusalsNeverMakesAnotherClientsUploadLookOverALimit() throws Exception {
        UploadLimits limits = new UploadLimits(32, 4); // borrowing below 24
        List<UploadLimits.Permit> held = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            held.add(limits.enter(a));
        }
        // a's further uploads are all refused; b (within its share) must never be, however they interleave
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> crowd = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            crowd.add(pool.submit(() -> {
                while (!stop.get()) {
                    assertThrows(RegistryException.class, () -> limits.enter(a));
                }
            }));
        }
        try {
            for (int i = 0; i < 100_000; i++) {
                limits.enter(b).close();
            }
        } finally {
            stop.set(true);
            pool.shutdown();
        }
        for (Future<?> f : crowd) {
            f.get();
        }
        held.forEach(UploadLimits.Permit::close);
        assertEquals(0, limits.inProgress());
    }

    @Test
    void aPermitClosedTwiceGivesItsPlaceBackOnce() {
        UploadLimits limits = new UploadLimits(2, 2);
        UploadLimits.Permit one = limits.enter(a);
        limits.enter(b);
        one.close();
        one.close();
        assertEquals(1, limits.inProgress());
    }

    @Test
    void theRegistryBeyondItsLimitRefusesEveryone() {
        UploadLimits limits = new UploadLimits(2, 2);
        UploadLimits.Permit one = limits.enter(a);
        limits.enter(b);
        RegistryException e = assertThrows(RegistryException.class, () -> limits.enter(Caller.at("10.0.0.3")));
        assertEquals(ErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(
                "the registry is receiving 2 uploads at once, its limit (uploads.max-concurrent); retry later",
                e.getMessage());
        assertEquals(Map.of("setting", "uploads.max-concurrent", "limit", 2), e.detail());
        assertEquals(2, limits.inProgress());
        one.close();
        limits.enter(Caller.at("10.0.0.3"));
        assertEquals(2, limits.inProgress());
    }
}
