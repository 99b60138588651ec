package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What /healthz says of blob storage: a failing write is a problem until a later write succeeds, and
 * a damaged blob is listed until a push repairs it, the most recent hundred at most.
 */
class StorageHealthTest {
    static Digest digest(int i) {
        return Digest.compute(DigestAlgorithm.SHA256, ("blob " + i).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aFailureIsAProblemUntilAWriteSucceedsAndKeepsItsFirstTimeWhileItLasts() {
        StorageHealth health = new StorageHealth();
        assertEquals(Optional.empty(), health.problem());
        health.succeeded();
        assertEquals(Optional.empty(), health.problem());
        health.failed(RegistryException.of(ErrorCode.STORAGE_FULL, "no space left"));
        StorageHealth.Problem first = health.problem().orElseThrow();
        assertEquals(ErrorCode.STORAGE_FULL.name(), first.code());
        assertEquals("no space left", first.message());
        health.failed(RegistryException.of(ErrorCode.STORAGE_FULL, "still no space"));
        assertEquals(first, health.problem().orElseThrow(), "the same failure again: failing since the first");
        health.failed(RegistryException.of(ErrorCode.STORAGE_UNAVAILABLE, "read-only file system"));
        assertEquals(
                ErrorCode.STORAGE_UNAVAILABLE.name(),
                health.problem().orElseThrow().code(),
                "another kind of failure replaces it");
        health.succeeded();
        assertEquals(Optional.empty(), health.problem());
    }

    @Test
    void damagedBlobsAreListedUntilRepairedTheMostRecentHundred() {
        StorageHealth health = new StorageHealth();
        health.damaged(digest(1), "missing");
        health.damaged(digest(2), "short");
        health.damaged(digest(1), "short now");
        assertEquals(
                List.of(digest(2), digest(1)),
                health.damagedBlobs().stream().map(StorageHealth.Damage::digest).toList(),
                "seen again: the most recent last, once");
        assertEquals("short now", health.damagedBlobs().get(1).reason());
        assertEquals(3, health.damagedReads(), "every damaged read counts");
        health.repaired(digest(2));
        assertEquals(
                List.of(digest(1)),
                health.damagedBlobs().stream().map(StorageHealth.Damage::digest).toList());
        for (int i = 100; i < 200; i++) {
            health.damaged(digest(i), "missing");
        }
        List<StorageHealth.Damage> listed = health.damagedBlobs();
        assertEquals(100, listed.size());
        assertEquals(digest(100), listed.get(0).digest(), "the oldest went first");
        assertTrue(listed.stream().noneMatch(d -> d.digest().equals(digest(1))));
        assertEquals(103, health.damagedReads());
    }
}
