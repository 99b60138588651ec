package io.berth.proxy;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigException;
import io.berth.core.config.YamlSection;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.CachePolicy;
import io.berth.oci.OciEndpoint;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The pull-through cache's configuration: the global {@code proxy.*} keys and the upstreams of
 * {@code proxy.upstreams}. Every mistake stops start-up with one {@link ConfigException} line naming
 * the file, the entry and the key: a misspelt key, both or neither of {@code prefix} and
 * {@code mirror}, two mirrors whose repositories overlap, a name or prefix given twice or a prefix
 * below another, a URL carrying credentials (never echoed).
 */
public record ProxyConfig(Duration manifestTtl, Duration staleFor, Duration timeout, List<UpstreamConfig> upstreams) {
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    static final List<String> KEYS = List.of(
            "name",
            "url",
            "mirror",
            "prefix",
            "repositories",
            "username",
            "password-file",
            "token-realms",
            "tls",
            "manifest-ttl",
            "stale-for",
            "rate-limit",
            "max-concurrent",
            "breaker-failures",
            "breaker-open-for");

    public ProxyConfig {
        upstreams = List.copyOf(upstreams);
    }

    /** The upstreams {@code config} names; none when it names none. */
    public static ProxyConfig of(BerthConfig config) {
        Duration ttl = config.duration(ProxyKeys.PROXY_MANIFEST_TTL);
        Duration stale = config.duration(ProxyKeys.PROXY_STALE_FOR);
        Duration timeout = config.duration(ProxyKeys.PROXY_TIMEOUT);
        List<UpstreamConfig> upstreams = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (YamlSection s : config.sections(ProxyKeys.PROXY_UPSTREAMS)) {
            UpstreamConfig u;
            try {
                u = upstream(s, new CachePolicy(ttl, stale));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
            if (names.putIfAbsent(u.name(), s.key()) != null) {
                throw bad(s, "name", "'" + u.name() + "' is the name of " + names.get(u.name()) + " too");
            }
            for (UpstreamConfig other : upstreams) {
                conflict(s, u, other).ifPresent(why -> {
                    throw new ConfigException(why);
                });
            }
            upstreams.add(u);
        }
        return new ProxyConfig(ttl, stale, timeout, upstreams);
    }

    private static ConfigException bad(YamlSection s, String key, String why) {
        return new ConfigException(s.bad(key, why).getMessage());
    }

    /** Why {@code u} and an earlier upstream cannot both be configured, if they cannot. */
    private static Optional<String> conflict(YamlSection s, UpstreamConfig u, UpstreamConfig other) {
        if (u.prefix().isPresent() && other.prefix().isPresent()) {
            String a = u.prefix().get();
            String b = other.prefix().get();
            if (a.equals(b)) {
                return Optional.of(s.bad("prefix", "'" + a + "' is the prefix of upstream " + other.name() + " too")
                        .getMessage());
            }
            if (a.startsWith(b + "/") || b.startsWith(a + "/")) {
                return Optional.of(s.bad(
                                "prefix",
                                "'" + a + "' and the prefix '" + b + "' of upstream " + other.name()
                                        + " are one below the other: a name would have two upstreams")
                        .getMessage());
            }
        }
        if (u.mirror() && other.mirror()) {
            for (RepositoryGlob g : u.repositories()) {
                for (RepositoryGlob h : other.repositories()) {
                    if (Globs.overlap(g.toString(), h.toString())) {
                        return Optional.of(s.bad(
                                        "repositories",
                                        "'" + g + "' overlaps '" + h + "' of mirror " + other.name()
                                                + ": a name would have two upstreams (give each mirror its own "
                                                + "repositories)")
                                .getMessage());
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static UpstreamConfig upstream(YamlSection s, CachePolicy global) {
        if (s.has("password")) {
            throw s.bad(
                    "password",
                    "is not read from the file: give it in " + YamlSection.envName(ProxyKeys.PROXY_UPSTREAMS)
                            + "_<NAME>_PASSWORD or in a password-file");
        }
        s.only(KEYS.toArray(String[]::new));
        String name = s.string("name", "");
        if (!NAME.matcher(name).matches()) {
            throw s.bad("name", "'" + name + "' must be 1-32 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        String envKey = ProxyKeys.PROXY_UPSTREAMS + "." + name + ".";
        boolean mirror = s.bool("mirror", false);
        Optional<String> prefix = s.optional("prefix");
        if (mirror == prefix.isPresent()) {
            throw s.bad(
                    mirror ? "prefix" : "mirror",
                    mirror
                            ? "and mirror: true are both given: an upstream is a mirror (names as they are) or "
                                    + "under a prefix, not both"
                            : "is missing: give mirror: true (docker's registry-mirrors, names as they are) or "
                                    + "prefix: <name> (names under <name>/)");
        }
        if (prefix.isPresent()) {
            try {
                RepositoryName.of(prefix.get());
            } catch (IllegalArgumentException e) {
                throw s.bad("prefix", "'" + prefix.get() + "' is not a repository path (e.g. hub or mirrors/ghcr)");
            }
            if (s.has("repositories")) {
                throw s.bad("repositories", "is for mirrors: an upstream under a prefix serves every name below it");
            }
        }
        List<RepositoryGlob> repositories = new ArrayList<>();
        for (String glob : s.strings("repositories")) {
            try {
                repositories.add(RepositoryGlob.of(glob));
            } catch (IllegalArgumentException e) {
                throw s.bad("repositories", e.getMessage());
            }
        }
        if (mirror && repositories.isEmpty()) {
            repositories.add(RepositoryGlob.of("**"));
        }
        URI url = url(s, s.stringWithEnv("url", envKey + "url", ""));
        String username = s.stringWithEnv("username", envKey + "username", "");
        String password = password(s, envKey);
        if (!password.isEmpty() && username.isEmpty()) {
            throw s.bad("username", "is missing: a password is given for upstream " + name);
        }
        YamlSection tls = s.section("tls").only("ca-file", "insecure");
        OciEndpoint endpoint = new OciEndpoint(
                url, username, password, tls.optional("ca-file").map(Path::of), tls.bool("insecure", false), realms(s));
        CachePolicy policy = new CachePolicy(
                s.has("manifest-ttl")
                        ? s.duration("manifest-ttl", "", Duration.ZERO, Duration.ofDays(30))
                        : global.manifestTtl(),
                s.has("stale-for")
                        ? s.duration("stale-for", "", Duration.ZERO, Duration.ofDays(365))
                        : global.staleFor());
        double rate = rate(s);
        int maxConcurrent = s.count("max-concurrent", "32", 1, 1024);
        int breakerFailures = s.count("breaker-failures", "5", 1, 100);
        Duration openFor = s.duration("breaker-open-for", "30s", Duration.ofSeconds(1), Duration.ofHours(1));
        return new UpstreamConfig(
                name, endpoint, prefix, repositories, policy, rate, maxConcurrent, breakerFailures, openFor);
    }

    private static URI url(YamlSection s, String text) {
        if (text.isEmpty()) {
            throw s.bad("url", "is missing: the upstream's URL, e.g. https://registry-1.docker.io");
        }
        URI uri;
        try {
            uri = URI.create(text);
            if (uri.getScheme() == null
                    || !List.of("http", "https").contains(uri.getScheme())
                    || uri.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw s.bad("url", "'" + (text.contains("@") ? "…" : text) + "' is not an http(s) URL of a registry");
        }
        if (uri.getRawUserInfo() != null) {
            // never echoed: the line would print the password it refuses
            throw s.bad(
                    "url",
                    "carries credentials (" + uri.getScheme() + "://…@" + uri.getHost()
                            + "): they would be logged and shown; give username, and the password in the "
                            + "environment or a password-file");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw s.bad("url", "'" + text + "' must not have a query or a fragment");
        }
        return uri;
    }

    /** {@code BERTH_PROXY_UPSTREAMS_<NAME>_PASSWORD}, else the first line of {@code password-file}, else none. */
    private static String password(YamlSection s, String envKey) {
        String fromEnv = s.stringWithEnv("password", envKey + "password", "");
        if (!fromEnv.isEmpty()) {
            return fromEnv;
        }
        Optional<String> file = s.optional("password-file");
        if (file.isEmpty()) {
            return "";
        }
        try {
            String text = Files.readString(Path.of(file.get()), StandardCharsets.UTF_8);
            String line = text.lines().findFirst().orElse("").strip();
            if (line.isEmpty()) {
                throw s.bad("password-file", "'" + file.get() + "' is empty");
            }
            return line;
        } catch (IOException e) {
            throw s.bad(
                    "password-file",
                    "'" + file.get() + "' cannot be read: " + e.getClass().getSimpleName());
        }
    }

    private static List<URI> realms(YamlSection s) {
        List<URI> out = new ArrayList<>();
        for (String text : s.strings("token-realms")) {
            try {
                URI u = URI.create(text);
                if (u.getScheme() != null
                        && List.of("http", "https").contains(u.getScheme())
                        && u.getHost() != null
                        && u.getRawUserInfo() == null) {
                    out.add(u);
                    continue;
                }
            } catch (IllegalArgumentException e) {
                // below
            }
            throw s.bad("token-realms", "'" + text + "' is not an http(s) URL of a token realm");
        }
        return List.copyOf(out);
    }

    private static double rate(YamlSection s) {
        String text = s.string("rate-limit", "0");
        try {
            double r = Double.parseDouble(text);
            if (r >= 0 && r <= 100_000 && !Double.isNaN(r)) {
                return r;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw s.bad("rate-limit", "'" + text + "' must be requests per second from 0 (none) to 100000, e.g. 20 or 0.5");
    }
}
