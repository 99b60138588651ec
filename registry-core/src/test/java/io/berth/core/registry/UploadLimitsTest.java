package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Caller;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Upload bodies streaming at once: bounded in all and per client, refused at once with 429, freed when done. */
class UploadLimitsTest {
    final Caller a = Caller.at("10.0.0.1");
    final Caller b = Caller.at("10.0.0.2");

    @Test
    void aClientBeyondItsShareIsRefusedWhileOthersGoOn() {
        UploadLimits limits = new UploadLimits(10, 2);
        UploadLimits.Permit one = limits.enter(a);
        UploadLimits.Permit two = limits.enter(a);
        RegistryException e = assertThrows(RegistryException.class, () -> limits.enter(a));
        assertEquals(ErrorCode.TOOMANYREQUESTS, e.code());
        assertEquals(
                "client 10.0.0.1 is sending 2 uploads at once, its limit (uploads.max-concurrent-per-client); "
                        + "retry later",
                e.getMessage());
        assertEquals(Map.of("setting", "uploads.max-concurrent-per-client", "limit", 2), e.detail());
        assertEquals(2, limits.inProgress(), "a refused upload holds no place");
        limits.enter(b).close();
        one.close();
        limits.enter(a).close();
        two.close();
        assertEquals(0, limits.inProgress());
        // all places given back: the client has its whole share again
        UploadLimits.Permit x = limits.enter(a);
        UploadLimits.Permit y = limits.enter(a);
        x.close();
        y.close();
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
