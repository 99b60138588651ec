package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.FreePorts;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every start-up failure of {@code berth serve} is one line giving its reason, with exit code 2 for
 * configuration and 1 otherwise, and nothing left running.
 */
class StartupFailuresTest {
    @TempDir
    Path dir;

    /** The one {@code berth:} line of a failed start; fails when there is not exactly one. */
    static String oneLine(BerthProcess.Result r) {
        List<String> lines = r.output().lines().filter(l -> l.startsWith("berth:")).toList();
        assertEquals(1, lines.size(), r.output());
        assertFalse(r.output().contains("Exception") || r.output().contains("\tat "), r.output());
        assertFalse(r.output().contains("berth: berth:"), r.output());
        return lines.get(0);
    }

    static Map<String, String> ports(int http, int admin) {
        return Map.of("BERTH_HTTP_PORT", Integer.toString(http), "BERTH_ADMIN_PORT", Integer.toString(admin));
    }

    @Test
    void takenPortsNameTheKeyAndTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            BerthProcess.Result http = BerthProcess.run(dir, ports(port, FreePorts.next()), "serve");
            assertEquals(1, http.exitCode(), http.output());
            String line = oneLine(http);
            assertTrue(line.contains("http.port") && line.contains("127.0.0.1:" + port)
                    && line.contains("already in use"), line);
            BerthProcess.Result admin = BerthProcess.run(dir, ports(FreePorts.next(), port), "serve");
            assertEquals(1, admin.exitCode(), admin.output());
            String adminLine = oneLine(admin);
            assertTrue(adminLine.contains("admin.port") && adminLine.contains("127.0.0.1:" + port)
                    && adminLine.contains("already in use"), adminLine);
        }
    }

    @Test
    void aSecondProcessOnTheSameDataIsRefused() throws Exception {
        try (BerthProcess first = BerthProcess.start(dir, List.of(), Map.of())) {
            BerthProcess.Result second = BerthProcess.run(dir, ports(FreePorts.next(), FreePorts.next()), "serve");
            assertEquals(1, second.exitCode(), second.output());
            String line = oneLine(second);
            assertTrue(line.contains("in use by another berth process (pid " + first.process.process().pid() + ")"),
                    line);
            assertEquals(0, first.terminate());
        }
        // once the first is gone, the data is free again
        try (BerthProcess again = BerthProcess.start(dir, List.of(), Map.of())) {
            assertEquals(0, again.terminate());
        }
    }

    @Test
    void storageThatCannotBeOpenedSaysWhy() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        Map<String, String> env = new java.util.HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_STORAGE_FILESYSTEM_ROOT", notADirectory.toString());
        BerthProcess.Result r = BerthProcess.run(dir, env, "serve");
        assertEquals(1, r.exitCode(), r.output());
        String line = oneLine(r);
        assertTrue(line.startsWith("berth: cannot open storage: " + notADirectory) && line.contains("not a directory"),
                line);
    }

    @Test
    void outOfRangeValuesAreOneLineAndExitCode2() throws Exception {
        Map<String, String> cases = Map.of(
                "BERTH_MANIFESTS_MAX_SIZE", "9999999999GiB",
                "BERTH_UPLOADS_MAX_CONCURRENT", "99999999999999999999",
                "BERTH_UPLOADS_EXPIRY", "106751991167301d",
                "BERTH_HTTP_SHUTDOWN_TIMEOUT", "99999999999999999999s",
                "BERTH_LISTING_MAX_PAGE_SIZE", "0",
                "BERTH_HTTP_PORT", "70000");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            BerthProcess.Result r = BerthProcess.run(dir, Map.of(c.getKey(), c.getValue()), "serve");
            assertEquals(2, r.exitCode(), c + ": " + r.output());
            String line = oneLine(r);
            String key = c.getKey().substring("BERTH_".length()).toLowerCase().replace('_', '.');
            assertTrue(line.contains("'" + c.getValue() + "'") && line.contains("environment " + c.getKey()), line);
            assertTrue(line.replace('-', '.').contains(key), key + " in " + line);
        }
    }

    @Test
    void configurationFilesThatCannotBeUsedSayWhyOnce() throws Exception {
        Path missing = dir.resolve("missing.yaml");
        String line = oneLine(BerthProcess.run(dir, Map.of(), "serve", "--config", missing.toString()));
        assertEquals("berth: cannot read configuration file " + missing + ": no such file", line);

        line = oneLine(BerthProcess.run(dir, Map.of(), "serve", "--config", dir.toString()));
        assertEquals("berth: cannot read configuration file " + dir + ": it is a directory", line);

        Path broken = Files.writeString(dir.resolve("broken.yaml"), "http:\n  port: 5000\n  host: [unclosed\n");
        line = oneLine(BerthProcess.run(dir, Map.of(), "serve", "--config", broken.toString()));
        assertTrue(line.startsWith("berth: configuration file " + broken + " is not valid YAML: line "), line);
        assertTrue(line.contains("column"), line);

        Path list = Files.writeString(dir.resolve("list.yaml"), "http:\n  port: [5000, 5001]\n");
        BerthProcess.Result r = BerthProcess.run(dir, Map.of(), "serve", "--config", list.toString());
        assertEquals(2, r.exitCode());
        line = oneLine(r);
        assertTrue(line.contains(list.toString()) && line.contains("http.port") && line.contains("not a list"), line);
    }
}
