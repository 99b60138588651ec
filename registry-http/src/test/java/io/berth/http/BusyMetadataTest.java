package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Someone else holds the SQLite write lock longer than the store waits for it (an operator's
 * sqlite3 shell, a backup tool): changes are answered 503 UNAVAILABLE with Retry-After — the
 * client retries — not 500; reads go on; once the lock is gone, pushes work again.
 */
class BusyMetadataTest {
    @TempDir
    Path dir;

    @Test
    void aWriteLockHeldElsewhereIsUnavailableForNowAndReadsGoOn() throws Exception {
        Path db = dir.resolve("meta/berth.db");
        try (TestRegistry r = new TestRegistry(dir, Map.of("metadata.sqlite.path", db.toString()))) {
            r.pushImage("busy/app", "v1", "seed", "");
            try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + db);
                    Statement s = other.createStatement()) {
                s.execute("PRAGMA busy_timeout=0");
                s.execute("BEGIN IMMEDIATE"); // the write lock, held until the rollback below
                try {
                    HttpResponse<byte[]> push = r.send("POST", "/v2/busy/app/blobs/uploads/", null);
                    String body = new String(push.body(), StandardCharsets.UTF_8);
                    assertEquals(503, push.statusCode(), body);
                    assertTrue(push.headers().firstValue("Retry-After").isPresent());
                    assertTrue(body.contains("\"UNAVAILABLE\"") && body.contains("metadata database busy"), body);
                    assertEquals(
                            200,
                            r.get("/v2/busy/app/manifests/v1", "Accept", "application/vnd.oci.image.manifest.v1+json")
                                    .statusCode());
                } finally {
                    s.execute("ROLLBACK");
                }
            }
            assertEquals(
                    202, r.send("POST", "/v2/busy/app/blobs/uploads/", null).statusCode());
        }
    }
}
