package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Every start-up failure of {@code berth serve} is one line giving its reason, with exit code 2 for
 * configuration and 1 otherwise, and nothing left running.
 */
@Tag("process")
class StartupFailuresTest {
    @TempDir
    Path dir;

    /** The one {@code berth:} line of a failed start; fails when there is not exactly one. */
    static String oneLine(BerthProcess.Result r) {
        List<String> lines =
                r.output().lines().filter(l -> l.startsWith("berth:")).toList();
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
            assertTrue(
                    line.contains("http.port") && line.contains("127.0.0.1:" + port) && line.contains("already in use"),
                    line);
            BerthProcess.Result admin = BerthProcess.run(dir, ports(FreePorts.next(), port), "serve");
            assertEquals(1, admin.exitCode(), admin.output());
            String adminLine = oneLine(admin);
            assertTrue(
                    adminLine.contains("admin.port")
                            && adminLine.contains("127.0.0.1:" + port)
                            && adminLine.contains("already in use"),
                    adminLine);
        }
    }

    @Test
    void aStopRequestWhileStartingIsKeptAndTheServerStopsInOrder() throws Exception {
        // an unknown key's warning is logged early in start-up: it marks a moment before the server is up
        Files.writeString(dir.resolve("berth.yaml"), "bogus: 1\n");
        Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_HTTP_SHUTDOWN_GRACE", "0s");
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of("--enable-native-access=ALL-UNNAMED"),
                List.of("serve"),
                env,
                dir,
                dir.resolve("stop-while-starting.log"));
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (!p.output().contains("unknown configuration key 'bogus'")) {
                assertTrue(p.process().isAlive() && System.currentTimeMillis() < deadline, p.output());
                Thread.sleep(5);
            }
            p.process().destroy(); // SIGTERM while it is still starting
            assertTrue(p.process().waitFor(60, TimeUnit.SECONDS), p.output());
            assertEquals(0, p.process().exitValue(), "stopped in order, not killed half-started: " + p.output());
            assertTrue(p.output().contains("shutting down"), p.output());
        } finally {
            p.close();
        }
    }

    @Test
    void aSecondProcessOnTheSameDataIsRefused() throws Exception {
        try (BerthProcess first = BerthProcess.start(dir, List.of(), Map.of())) {
            BerthProcess.Result second = BerthProcess.run(dir, ports(FreePorts.next(), FreePorts.next()), "serve");
            assertEquals(1, second.exitCode(), second.output());
            String line = oneLine(second);
            assertTrue(
                    line.contains("in use by another berth process (pid "
                            + first.process.process().pid() + ")"),
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
        Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_STORAGE_FILESYSTEM_ROOT", notADirectory.toString());
        BerthProcess.Result r = BerthProcess.run(dir, env, "serve");
        assertEquals(1, r.exitCode(), r.output());
        String line = oneLine(r);
        assertTrue(
                line.startsWith("berth: cannot open storage: " + notADirectory) && line.contains("not a directory"),
                line);
    }

    /**
     * {@code storage.type} and {@code metadata.type} admit the types this build installs: a build with
     * {@code -Dminimal} refuses {@code s3} and {@code postgres} as it refuses any unknown type, in one line
     * naming the installed ones. (The default build has them: there an unknown type stands in.)
     */
    @Test
    void aBackendThisBuildLacksIsRefusedInOneLineNamingTheInstalledOnes() throws Exception {
        Map<String, List<String>> builtIn = new LinkedHashMap<>();
        builtIn.put("storage.type s3", List.of("filesystem"));
        builtIn.put("metadata.type postgres", List.of("sqlite"));
        for (Map.Entry<String, List<String>> c : builtIn.entrySet()) {
            ConfigKey key = ConfigKeys.byName(c.getKey().split(" ")[0]).orElseThrow();
            String module = c.getKey().split(" ")[1];
            String wanted = key.choices().contains(module) ? "tape" : module;
            if (wanted.equals(module)) {
                assertEquals(c.getValue(), key.choices(), "a minimal build: the built-in type alone");
            }
            Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
            env.put(key.envName(), wanted);
            BerthProcess.Result r = BerthProcess.run(dir, env, "serve");
            assertEquals(2, r.exitCode(), r.output());
            assertEquals(
                    "berth: invalid value '" + wanted + "' for " + key.name() + " (from environment "
                            + key.envName() + "): must be one of " + String.join(", ", key.choices())
                            + " (the backends in this build; a build with -Dminimal leaves S3 and PostgreSQL out)",
                    oneLine(r));
        }
    }

    @Test
    void credentialsInStorageAndDatabaseUrlsNeverReachTheFailureLine() throws Exception {
        assumeTrue(
                ConfigKeys.byName("metadata.postgres.url").isPresent()
                        && ConfigKeys.byName("storage.s3.endpoint").isPresent(),
                "storage-s3 and metadata-postgres are not in this build (-Dminimal)");
        Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_METADATA_TYPE", "postgres");
        env.put("BERTH_METADATA_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:1/berth?user=u&password=PGSECRET1");
        BerthProcess.Result pg = BerthProcess.run(dir, env, "serve");
        assertEquals(1, pg.exitCode(), pg.output());
        String line = oneLine(pg);
        assertTrue(
                line.startsWith("berth: cannot open metadata: cannot connect to PostgreSQL at postgresql://127.0.0.1:1"
                        + "/berth"),
                line);
        assertFalse(pg.output().contains("PGSECRET1"), pg.output());
        env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_STORAGE_TYPE", "s3");
        env.put("BERTH_STORAGE_S3_ENDPOINT", "http://AKIAUSER:S3SECRET2@127.0.0.1:1");
        env.put("BERTH_STORAGE_S3_ACCESS_KEY", "access");
        env.put("BERTH_STORAGE_S3_SECRET_KEY", "secret-key-1");
        BerthProcess.Result s3 = BerthProcess.run(dir, env, "serve");
        assertEquals(1, s3.exitCode(), s3.output());
        assertTrue(oneLine(s3).startsWith("berth: cannot open storage: "), s3.output());
        assertFalse(s3.output().contains("S3SECRET2"), s3.output());
    }

    @Test
    void kafkaPropertiesTheClientRefusesAreOneLineAndExitCode2() throws Exception {
        Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
        env.put("BERTH_EVENTS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1");
        env.put("BERTH_EVENTS_KAFKA_PROPERTIES_SECURITY_PROTOCOL", "SASL_PLAINTEXT");
        env.put("BERTH_EVENTS_KAFKA_PROPERTIES_SASL_MECHANISM", "PLAIN");
        env.put(
                "BERTH_EVENTS_KAFKA_PROPERTIES_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.plain."
                        + "PlainLoginModule required username=\"ku\" password=\"KAFKASECRET4\" x");
        // before: a stack trace, and a process serving on without events that ignored SIGTERM
        BerthProcess.Result r = BerthProcess.run(dir, env, "serve");
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(
                oneLine(r).startsWith("berth: events.kafka.*: the Kafka client refuses its configuration: "),
                r.output());
        assertFalse(r.output().contains("KAFKASECRET4"), r.output());
    }

    @Test
    void manifestBudgetsBelowTheLargestManifestAreOneLineAndExitCode2() throws Exception {
        BerthProcess.Result r = BerthProcess.run(dir, Map.of("BERTH_MANIFESTS_MAX_SIZE", "16MiB"), "serve");
        assertEquals(2, r.exitCode(), r.output());
        String line = oneLine(r);
        assertTrue(line.contains("manifests.max-buffered") && line.contains("manifests.max-size"), line);
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

    @Test
    void accessControlAndTlsThatCannotBeSetUpSayWhyInOneLine() throws Exception {
        Files.writeString(dir.resolve("md5.htpasswd"), "bob:$apr1$abc$0123456789abcdefghijk.\n");
        Files.writeString(dir.resolve("ok.htpasswd"), "bob:" + BCrypt.hashpw("pw", BCrypt.gensalt(4)) + "\n");
        Files.writeString(
                dir.resolve("policy.yaml"),
                "rules:\n  - repositories: [\"**\"]\n" + "    subjects: [\"group:nobody\"]\n    actions: [pull]\n");
        String ok = dir.resolve("ok.htpasswd").toString();
        Map<Map<String, String>, String> cases = new LinkedHashMap<>();
        cases.put(Map.of("BERTH_AUTH_TYPE", "htpasswd"), "auth.type htpasswd needs auth.htpasswd.path");
        cases.put(
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "htpasswd",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        dir.resolve("none").toString()),
                "cannot read auth.htpasswd.path " + dir.resolve("none") + ": no such file");
        cases.put(
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "token",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        dir.resolve("md5.htpasswd").toString()),
                "line 1 (user bob): only bcrypt entries are accepted (htpasswd -B)");
        cases.put(
                Map.of(
                        "BERTH_AUTH_TYPE",
                        "htpasswd",
                        "BERTH_AUTH_HTPASSWD_PATH",
                        ok,
                        "BERTH_AUTH_POLICY",
                        dir.resolve("policy.yaml").toString()),
                "rules[0].subjects names the group 'nobody'");
        cases.put(
                Map.of("BERTH_AUTH_TYPE", "token", "BERTH_AUTH_TOKEN_PUBLIC_KEY", ok),
                "auth.token.public-key (an external issuer) needs auth.token.realm");
        cases.put(Map.of("BERTH_HTTP_TLS_CERT", ok), "http.tls.cert and http.tls.key go together");
        cases.put(
                Map.of("BERTH_HTTP_TLS_CERT", dir.resolve("x.crt").toString(), "BERTH_HTTP_TLS_KEY", ok),
                "cannot read http.tls.cert " + dir.resolve("x.crt") + ": no such file");
        cases.put(Map.of("BERTH_HTTP_TLS_CERT", ok, "BERTH_HTTP_TLS_KEY", ok), "cannot use http.tls.cert/http.tls.key");
        cases.put(Map.of("BERTH_ADMIN_TLS_KEY", ok), "admin.tls.cert and admin.tls.key go together");
        for (Map.Entry<Map<String, String>, String> c : cases.entrySet()) {
            Map<String, String> env = new HashMap<>(ports(FreePorts.next(), FreePorts.next()));
            env.putAll(c.getKey());
            env.put(
                    "BERTH_STORAGE_FILESYSTEM_ROOT",
                    dir.resolve("data-" + env.hashCode() + "/blobs").toString());
            env.put(
                    "BERTH_METADATA_SQLITE_PATH",
                    dir.resolve("data-" + env.hashCode() + "/berth.db").toString());
            BerthProcess.Result r = BerthProcess.run(dir, env, "serve");
            assertEquals(2, r.exitCode(), c + ": " + r.output());
            String line = oneLine(r);
            assertTrue(line.contains(c.getValue()), c.getValue() + " in " + line);
        }
    }
}
