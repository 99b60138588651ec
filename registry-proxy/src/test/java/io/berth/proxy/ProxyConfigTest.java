package io.berth.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.testsupport.ConfigDocs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** proxy.* and the upstreams as berth.yaml gives them: what is read, and one line per mistake. */
class ProxyConfigTest {
    @TempDir
    Path dir;

    final List<String> warnings = new ArrayList<>();

    ProxyConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, yaml);
        return ProxyConfig.of(BerthConfig.load(Optional.of(file), env, warnings::add));
    }

    String refusal(String upstreams) {
        ConfigException e = assertThrows(
                ConfigException.class, () -> load("proxy:\n  upstreams:\n" + upstreams.indent(4), Map.of()));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().contains("berth.yaml: proxy.upstreams["), e.getMessage());
        return e.getMessage();
    }

    @Test
    void theKeysAreInstalledAndDocumented() throws Exception {
        ConfigDocs.assertInstalledAndDocumented(new ProxyKeys());
        assertTrue(ConfigDocs.page().contains("| `proxy.upstreams` |"), "docs/configuration.md lists the section");
    }

    @Test
    void aMirrorAndANamespacedUpstreamAreRead() throws Exception {
        Files.writeString(dir.resolve("ghcr-password"), "ghcr-pw\n");
        ProxyConfig c = load(
                """
                proxy:
                  manifest-ttl: 1m
                  upstreams:
                    - name: hub
                      url: https://registry-1.docker.io
                      mirror: true
                      repositories: ["library/**", "bitnami/**"]
                      username: mirrorbot
                      token-realms: ["https://auth.docker.io/token"]
                      rate-limit: 20
                    - name: ghcr
                      url: https://ghcr.io
                      prefix: ghcr
                      username: bot
                      password-file: %s
                      stale-for: 1d
                      max-concurrent: 8
                """.formatted(dir.resolve("ghcr-password")), Map.of("BERTH_PROXY_UPSTREAMS_HUB_PASSWORD", "hub-pw"));
        assertEquals(List.of(), warnings, "the upstream's password variable is no unknown variable");
        assertEquals(Duration.ofMinutes(1), c.manifestTtl());
        assertEquals(Duration.ofDays(7), c.staleFor(), "the default");
        UpstreamConfig hub = c.upstreams().get(0);
        assertTrue(hub.mirror());
        assertEquals("hub-pw", hub.endpoint().password());
        assertEquals("mirrorbot", hub.endpoint().username());
        assertEquals(20.0, hub.rateLimit());
        assertEquals(Duration.ofMinutes(1), hub.policy().manifestTtl());
        assertEquals("[library/**, bitnami/**]", hub.repositories().toString());
        UpstreamConfig ghcr = c.upstreams().get(1);
        assertEquals(Optional.of("ghcr"), ghcr.prefix());
        assertEquals("ghcr-pw", ghcr.endpoint().password());
        assertEquals(Duration.ofDays(1), ghcr.policy().staleFor());
        assertEquals(8, ghcr.maxConcurrent());
        assertEquals(32, hub.maxConcurrent(), "the default");
        assertFalse(hub.toString().contains("hub-pw") || ghcr.toString().contains("ghcr-pw"), hub + " " + ghcr);
        assertFalse(hub.endpoint().toString().contains("hub-pw"));
    }

    @Test
    void noUpstreamsIsNoProxy() throws Exception {
        assertEquals(List.of(), load("proxy:\n  stale-for: 1d\n", Map.of()).upstreams());
    }

    @Test
    void aMisspeltKeyIsRefusedNamingTheNearestOne() {
        String line = refusal("- {name: hub, url: \"https://r.example\", mirorr: true}");
        assertTrue(line.contains("proxy.upstreams[0].mirorr is not a known key: did you mean mirror?"), line);
    }

    @Test
    void prefixAndMirrorAreOneOrTheOther() {
        assertTrue(refusal("- {name: hub, url: \"https://r.example\", mirror: true, prefix: hub}")
                .contains("are both given"));
        assertTrue(refusal("- {name: hub, url: \"https://r.example\"}").contains("mirror is missing"));
    }

    @Test
    void twoMirrorsMayNotClaimOneName() throws Exception {
        String line = refusal("""
                - {name: a, url: "https://a.example", mirror: true, repositories: ["library/*"]}
                - {name: b, url: "https://b.example", mirror: true, repositories: ["**/busy*"]}
                """);
        assertTrue(line.contains("proxy.upstreams[1].repositories '**/busy*' overlaps 'library/*' of mirror a"), line);
        assertTrue(refusal("""
                - {name: a, url: "https://a.example", mirror: true}
                - {name: b, url: "https://b.example", mirror: true}
                """).contains("overlaps"));
        // disjoint: fine
        assertEquals(2, load("""
                proxy:
                  upstreams:
                    - {name: a, url: "https://a.example", mirror: true, repositories: ["library/**"]}
                    - {name: b, url: "https://b.example", mirror: true, repositories: ["bitnami/**", "x/*-a"]}
                """, Map.of()).upstreams().size());
    }

    @Test
    void namesAndPrefixesAreUnique() {
        assertTrue(refusal("""
                - {name: a, url: "https://a.example", prefix: x}
                - {name: a, url: "https://b.example", prefix: y}
                """).contains("proxy.upstreams[1].name 'a' is the name of proxy.upstreams[0] too"));
        assertTrue(refusal("""
                - {name: a, url: "https://a.example", prefix: x}
                - {name: b, url: "https://b.example", prefix: x}
                """).contains("'x' is the prefix of upstream a too"));
        assertTrue(refusal("""
                - {name: a, url: "https://a.example", prefix: x}
                - {name: b, url: "https://b.example", prefix: x/y}
                """).contains("one below the other"));
    }

    @Test
    void credentialsInTheUrlOrTheFileAreRefusedWithoutShowingThem() {
        String line = refusal("- {name: hub, url: \"https://bot:hunter2@r.example\", mirror: true}");
        assertTrue(line.contains("proxy.upstreams[0].url carries credentials (https://…@r.example)"), line);
        assertFalse(line.contains("hunter2"), line);
        String inline =
                refusal("- {name: hub, url: \"https://r.example\", mirror: true, username: bot, password: hunter2}");
        assertTrue(inline.contains("BERTH_PROXY_UPSTREAMS_<NAME>_PASSWORD"), inline);
        assertFalse(inline.contains("hunter2"), inline);
    }

    @Test
    void badValuesAreOneLineEach() {
        assertTrue(refusal("- {name: Hub!, url: \"https://r.example\", mirror: true}")
                .contains("name 'Hub!'"));
        assertTrue(
                refusal("- {name: hub, url: \"ftp://r.example\", mirror: true}").contains("not an http(s) URL"));
        assertTrue(refusal("- {name: hub, mirror: true}").contains("url is missing"));
        assertTrue(refusal("- {name: hub, url: \"https://r.example\", mirror: true, rate-limit: fast}")
                .contains("rate-limit 'fast'"));
        assertTrue(refusal("- {name: hub, url: \"https://r.example\", prefix: hub, repositories: [\"a/**\"]}")
                .contains("repositories is for mirrors"));
    }
}
