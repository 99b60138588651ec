package io.berth.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.BerthConfig;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.Upstreams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which upstream a local name goes to, through Proxy.open as serve calls it. */
class ConfiguredUpstreamsTest {
    @TempDir
    Path dir;

    Upstreams open(String yaml) throws Exception {
        Path file = dir.resolve("berth.yaml");
        Files.writeString(file, yaml);
        return Proxy.open(BerthConfig.load(Optional.of(file), Map.of(), w -> {}));
    }

    static String route(Upstreams u, String local) {
        return u.route(RepositoryName.of(local))
                .map(r -> r.upstream().name() + " " + r.remote().value())
                .orElse("local");
    }

    @Test
    void prefixesWinThenTheMirrorsGlobsElseLocal() throws Exception {
        Upstreams u = open("""
                proxy:
                  upstreams:
                    - {name: hub, url: "https://registry-1.docker.io", mirror: true, repositories: ["library/**", "hub/**"]}
                    - {name: ghcr, url: "https://ghcr.io", prefix: ghcr}
                    - {name: quay, url: "https://quay.io", prefix: hub}
                """);
        assertEquals("quay library/busybox", route(u, "hub/library/busybox"), "a prefix wins over a mirror's glob");
        assertEquals("ghcr owner/app", route(u, "ghcr/owner/app"));
        assertEquals("hub library/busybox", route(u, "library/busybox"), "a mirror keeps the name");
        assertEquals("local", route(u, "team/app"), "outside every route");
        assertEquals("local", route(u, "ghcr"), "the prefix alone names nothing upstream");
        assertEquals("local", route(u, "hub"), "nor does it go to the mirror");
        assertEquals("local", route(u, "ghcrx/app"), "a prefix is a whole component");
        assertEquals(
                List.of("hub", "ghcr", "quay"),
                u.all().stream().map(Upstream::name).toList());
        ProxyRoute r = u.route(RepositoryName.of("ghcr/owner/app")).orElseThrow();
        assertTrue(r.upstream() instanceof GuardedUpstream, "every upstream behind its guards");
        assertEquals("https://ghcr.io (prefix ghcr/)", r.upstream().describe());
    }

    @Test
    void noUpstreamsRouteNothing() throws Exception {
        Upstreams u = open("proxy:\n  manifest-ttl: 1m\n");
        assertEquals("local", route(u, "library/busybox"));
        assertEquals(0, u.all().size());
    }
}
