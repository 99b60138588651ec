package io.berth.core.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.metadata.MetadataException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class StorageFailuresTest {
    private static MetadataException metadata(SQLException cause) {
        return new MetadataException("transaction failed: " + cause.getMessage(), cause);
    }

    @Test
    void aFullDeviceIsStorageFull() {
        assertTrue(StorageFailures.isNoSpace(new FileSystemException("/data/x", null, "No space left on device")));
        assertTrue(StorageFailures.isNoSpace(metadata(new SQLException("[SQLITE_FULL] database or disk is full"))));
        assertEquals(
                ErrorCode.STORAGE_FULL,
                StorageFailures.of("chunk could not be stored", new IOException("No space left on device"))
                        .code());
    }

    @Test
    void aBusyDatabaseIsUnavailableForNowNotAnInternalError() {
        MetadataException sqlite =
                metadata(new SQLException("[SQLITE_BUSY] The database file is locked (database is locked)", null, 5));
        assertTrue(StorageFailures.isBusy(sqlite));
        assertFalse(StorageFailures.isNoSpace(sqlite));
        RegistryException e = StorageFailures.of("the request could not be completed", sqlite);
        assertEquals(ErrorCode.STORAGE_UNAVAILABLE, e.code());
        assertEquals("the request could not be completed: metadata database busy", e.getMessage());
        for (String state : new String[] {"40001", "40P01", "55P03"}) { // PostgreSQL: serialization, deadlock, lock
            assertTrue(StorageFailures.isBusy(metadata(new SQLException("failed", state))), state);
        }
        assertFalse(StorageFailures.isBusy(metadata(new SQLException("syntax error", "42601"))));
        assertFalse(StorageFailures.isBusy(new IOException("Input/output error")));
    }
}
