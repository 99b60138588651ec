package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.metadata.MetadataException;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.registry.RegistryFactory;
import io.berth.testsupport.SmallFilesystem;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry does not start on a metadata database it cannot write (here: its filesystem read-only),
 * where it used to start, say ready, and fail every push. The same write probe runs in every
 * readiness check (a filesystem cannot be remounted read-only under an open database, so that case
 * is covered where the store itself is closed, in {@link OpsTest}).
 */
class ReadOnlyMetadataTest {
    @TempDir
    Path dir;

    @Test
    void readinessAndStartUpCheckThatMetadataCanBeWritten() throws Exception {
        SmallFilesystem.Result mounted =
                SmallFilesystem.mount(SmallFilesystem.Kind.TMPFS, dir.resolve("meta"), 16 << 20);
        Assumptions.assumeTrue(mounted.filesystem() != null, mounted.whyNot());
        try (SmallFilesystem fs = mounted.filesystem()) {
            String db = fs.root().resolve("berth.db").toString();
            try (TestRegistry r = new TestRegistry(dir, Map.of("metadata.sqlite.path", db))) {
                assertEquals(200, r.get("/readyz").statusCode());
                assertEquals(
                        202, r.send("POST", "/v2/ro/app/blobs/uploads/", null).statusCode());
            }
            fs.remount(true);
            try {
                MetadataException e = assertThrows(
                        MetadataException.class,
                        () -> RegistryFactory.open(
                                BerthConfig.of(Map.of(
                                        "metadata.sqlite.path",
                                        db,
                                        "storage.filesystem.root",
                                        dir.resolve("blobs").toString())),
                                Set.of()));
                assertTrue(e.getMessage().contains(db), e.getMessage());
                // the store itself, without the process lock in front of it, refuses too
                MetadataException store =
                        assertThrows(MetadataException.class, () -> new SqliteMetadataStore(Path.of(db)));
                assertTrue(store.getMessage().contains(db), store.getMessage());
            } finally {
                fs.remount(false);
            }
        }
    }
}
