package io.berth.replicator;

import io.berth.core.config.YamlSection;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.TagRegex;
import io.berth.eventstream.KafkaConnection;
import io.berth.oci.OciClient;
import io.berth.oci.OciEndpoint;
import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code berth replicate}'s configuration (docs/replication.md). Every key can be overridden from the
 * environment the Berth way: {@code replication.kafka.bootstrap-servers} is
 * {@code BERTH_REPLICATION_KAFKA_BOOTSTRAP_SERVERS}; a target's keys by its name,
 * {@code replication.targets.site-b.password} is {@code BERTH_REPLICATION_TARGETS_SITE_B_PASSWORD}.
 */
public record ReplicationConfig(
        OciEndpoint source,
        Optional<String> bootstrapServers,
        String topic,
        String group,
        Duration reconcileInterval,
        String httpHost,
        int httpPort,
        List<Target> targets,
        Map<String, String> kafkaProperties,
        Duration timeout,
        long manifestsMaxSize) {
    /** Defaults of the bounds on what a remote may make the replicator do (docs/replication.md). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public static final int DEFAULT_DELETE_BUDGET = 10;

    /** Without Kafka client properties (plaintext, no authentication), with the default bounds. */
    public ReplicationConfig(
            OciEndpoint source,
            Optional<String> bootstrapServers,
            String topic,
            String group,
            Duration reconcileInterval,
            String httpHost,
            int httpPort,
            List<Target> targets) {
        this(
                source,
                bootstrapServers,
                topic,
                group,
                reconcileInterval,
                httpHost,
                httpPort,
                targets,
                Map.of(),
                DEFAULT_TIMEOUT,
                OciClient.DEFAULT_MAX_MANIFEST);
    }

    /** How to reach Kafka (brokers, TLS and SASL), when events are consumed. */
    public Optional<KafkaConnection> kafka() {
        return bootstrapServers.map(b -> new KafkaConnection(b, kafkaProperties));
    }

    /** Whether events are consumed; without Kafka, replication is by reconciliation alone. */
    public boolean events() {
        return bootstrapServers.isPresent();
    }

    /** A site to keep in step, and what of the source it wants. */
    public record Target(
            String name,
            OciEndpoint endpoint,
            List<RepositoryGlob> repositories,
            List<RepositoryGlob> exclude,
            Optional<TagRegex> tags,
            List<String> platforms,
            String prefix,
            boolean deletes,
            int concurrency,
            long bytesPerSecond,
            int deleteBudgetPercent) {
        public Target(
                String name,
                OciEndpoint endpoint,
                List<RepositoryGlob> repositories,
                List<RepositoryGlob> exclude,
                Optional<TagRegex> tags,
                List<String> platforms,
                String prefix,
                boolean deletes,
                int concurrency,
                long bytesPerSecond) {
            this(
                    name,
                    endpoint,
                    repositories,
                    exclude,
                    tags,
                    platforms,
                    prefix,
                    deletes,
                    concurrency,
                    bytesPerSecond,
                    DEFAULT_DELETE_BUDGET);
        }

        /** Whether a repository of the source is replicated to this target. */
        public boolean wants(RepositoryName repository) {
            return wants(repository.value());
        }

        public boolean wantsTag(Tag tag) {
            return wantsTag(tag.value());
        }

        /** The repository on the target for a repository of the source (a valid name: the prefix is checked). */
        public RepositoryName destination(RepositoryName repository) {
            return RepositoryName.of(prefix + repository.value());
        }

        /**
         * The deletes one reconciliation may make without an operator, of {@code held} tags on the
         * target: the budget's share, at least one (none with a budget of 0%).
         */
        public long deleteAllowance(long held) {
            return deleteBudgetPercent == 0 ? 0 : Math.max(1, held * deleteBudgetPercent / 100);
        }

        /** Whether a repository of the source is replicated to this target. */
        public boolean wants(String repository) {
            return RepositoryGlob.anyMatches(repositories, repository)
                    && exclude.stream().noneMatch(g -> g.matches(repository));
        }

        public boolean wantsTag(String tag) {
            return tags.isEmpty() || tags.get().matches(tag);
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern RATE =
            Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|KiB|MiB|GiB)?/s", Pattern.CASE_INSENSITIVE);
    private static final Pattern PLATFORM = Pattern.compile("[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?");

    public static ReplicationConfig load(Path file, Map<String, String> env) {
        YamlSection r = YamlSection.load(file, "replication", env)
                .only(
                        "source",
                        "source-username",
                        "source-password",
                        "source-tls",
                        "source-token-realms",
                        "kafka",
                        "reconcile-interval",
                        "http-host",
                        "http-port",
                        "targets",
                        "timeout",
                        "manifests-max-size");
        OciEndpoint source = endpoint(
                r,
                "source",
                r.string("source", ""),
                r.stringWithEnv("source-username", "replication.source-username", ""),
                r.stringWithEnv("source-password", "replication.source-password", ""),
                r.section("source-tls"),
                realms(r, "source-token-realms"));
        YamlSection kafka = r.section("kafka").only("bootstrap-servers", "topic", "group", "properties");
        Map<String, String> kafkaProperties = kafka.properties("properties");
        KafkaConnection.ownKey(kafkaProperties).ifPresent(k -> {
            throw kafka.bad("properties." + k, "is set by Berth and cannot be changed");
        });
        // no brokers: no events to follow, the reconciliations alone keep the targets in step
        String bootstrap = kafka.string("bootstrap-servers", "");
        if (bootstrap.isBlank() && r.has("kafka")) {
            throw kafka.bad(
                    "bootstrap-servers",
                    "is required in a kafka section (without one, replication is by " + "reconciliation alone)");
        }
        String topic = kafka.string("topic", "berth.events");
        String group = kafka.string("group", "berth-replicator");
        Duration reconcile = r.duration("reconcile-interval", "10m", Duration.ofSeconds(1), Duration.ofDays(7));
        String host = r.string("http-host", "127.0.0.1");
        int port = r.port("http-port", "5002");
        List<Target> targets = new ArrayList<>();
        for (YamlSection t : r.sections("targets")) {
            targets.add(target(t));
        }
        if (targets.isEmpty()) {
            throw r.bad("targets", "must list at least one target");
        }
        if (targets.stream().map(Target::name).distinct().count() != targets.size()) {
            throw r.bad("targets", "names must be unique");
        }
        Duration timeout = r.duration("timeout", "60s", Duration.ofSeconds(1), Duration.ofHours(1));
        long maxManifest = size(r, "manifests-max-size", "4MiB", 1L << 10, 64L << 20);
        return new ReplicationConfig(
                source,
                bootstrap.isBlank() ? Optional.empty() : Optional.of(bootstrap),
                topic,
                group,
                reconcile,
                host,
                port,
                List.copyOf(targets),
                Map.copyOf(kafkaProperties),
                timeout,
                maxManifest);
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|KB|MB)?", Pattern.CASE_INSENSITIVE);

    private static long size(YamlSection s, String key, String dflt, long min, long max) {
        String text = s.string(key, dflt);
        Matcher m = SIZE.matcher(text);
        if (m.matches()) {
            String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
            BigInteger bytes = new BigInteger(m.group(1))
                    .multiply(BigInteger.valueOf(
                            switch (unit) {
                                case "kib", "kb" -> 1L << 10;
                                case "mib", "mb" -> 1L << 20;
                                default -> 1L;
                            }));
            if (bytes.compareTo(BigInteger.valueOf(min)) >= 0 && bytes.compareTo(BigInteger.valueOf(max)) <= 0) {
                return bytes.longValueExact();
            }
        }
        throw s.bad(key, "'" + text + "' must be a size from 1KiB to 64MiB (e.g. 4MiB)");
    }

    /** Token realms on other origins that may receive the endpoint's credentials: http(s) URLs. */
    private static List<URI> realms(YamlSection s, String key) {
        List<URI> out = new ArrayList<>();
        for (String text : s.strings(key)) {
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
            throw s.bad(key, "'" + text + "' is not an http(s) URL of a token realm");
        }
        return List.copyOf(out);
    }

    private static OciEndpoint endpoint(
            YamlSection s,
            String key,
            String url,
            String username,
            String password,
            YamlSection tls,
            List<URI> realms) {
        URI uri;
        try {
            uri = URI.create(url);
            if (uri.getScheme() == null
                    || !List.of("http", "https").contains(uri.getScheme())
                    || uri.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw s.bad(key, "'" + (url.contains("@") ? "…" : url) + "' is not an http(s) URL of a registry");
        }
        if (uri.getRawUserInfo() != null) {
            // never echoed: the line would print the password it refuses
            throw s.bad(
                    key,
                    "carries credentials in the URL (" + uri.getScheme() + "://…@" + uri.getHost()
                            + "): they would be logged and shown, not used; give them as username and password");
        }
        tls.only("ca-file", "insecure");
        Optional<Path> ca = tls.optional("ca-file").map(Path::of);
        return new OciEndpoint(uri, username, password, ca, tls.bool("insecure", false), realms);
    }

    private static Target target(YamlSection t) {
        t.only(
                "name",
                "url",
                "username",
                "password",
                "tls",
                "token-realms",
                "repositories",
                "exclude",
                "tags",
                "platforms",
                "prefix",
                "deletes",
                "delete-budget",
                "concurrency",
                "rate-limit");
        String name = t.string("name", "");
        if (!NAME.matcher(name).matches()) {
            throw t.bad("name", "'" + name + "' must be 1-64 of a-z, 0-9, '.', '_', '-'");
        }
        String envKey = "replication.targets." + name + ".";
        OciEndpoint endpoint = endpoint(
                t,
                "url",
                t.stringWithEnv("url", envKey + "url", ""),
                t.stringWithEnv("username", envKey + "username", ""),
                t.stringWithEnv("password", envKey + "password", ""),
                t.section("tls"),
                realms(t, "token-realms"));
        List<RepositoryGlob> repositories = globs(t, "repositories");
        List<RepositoryGlob> exclude = globs(t, "exclude");
        Optional<TagRegex> tags = t.optional("tags").map(regex -> {
            try {
                return TagRegex.of(regex);
            } catch (IllegalArgumentException e) {
                throw t.bad("tags", "'" + regex + "' " + e.getMessage());
            }
        });
        List<String> platforms = t.strings("platforms");
        for (String p : platforms) {
            if (!PLATFORM.matcher(p).matches()) {
                throw t.bad("platforms", "'" + p + "' is not os/architecture[/variant], e.g. linux/amd64");
            }
        }
        String prefix = t.stringWithEnv("prefix", envKey + "prefix", "");
        if (!prefix.isEmpty() && !prefix.matches("[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*/")) {
            throw t.bad("prefix", "'" + prefix + "' must be repository path components ending in '/', e.g. mirror/");
        }
        boolean deletes = t.bool("deletes", false);
        int concurrency = t.count("concurrency", "4", 1, 64);
        String rateText = t.stringWithEnv("rate-limit", envKey + "rate-limit", "");
        long rate = rateText.isEmpty() ? 0 : rate(t, rateText);
        String budget = t.string("delete-budget", DEFAULT_DELETE_BUDGET + "%");
        Matcher b = Pattern.compile("(\\d{1,3})\\s*%").matcher(budget);
        if (!b.matches() || Integer.parseInt(b.group(1)) > 100) {
            throw t.bad("delete-budget", "'" + budget + "' must be a percentage from 0% to 100% of the target's tags");
        }
        return new Target(
                name,
                endpoint,
                repositories,
                exclude,
                tags,
                platforms,
                prefix,
                deletes,
                concurrency,
                rate,
                Integer.parseInt(b.group(1)));
    }

    private static List<RepositoryGlob> globs(YamlSection t, String key) {
        List<RepositoryGlob> out = new ArrayList<>();
        for (String glob : t.strings(key)) {
            try {
                out.add(RepositoryGlob.of(glob));
            } catch (IllegalArgumentException e) {
                throw t.bad(key, e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private static long rate(YamlSection t, String text) {
        Matcher m = RATE.matcher(text.trim());
        if (!m.matches()) {
            throw t.bad(
                    "rate-limit",
                    "'" + text + "' is not a rate such as 200MB/s (B, KB, MB, GB per second; "
                            + "binary units, as everywhere in Berth)");
        }
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "kb", "kib" -> 1L << 10;
            case "mb", "mib" -> 1L << 20;
            case "gb", "gib" -> 1L << 30;
            default -> 1L;
        };
        BigInteger bytes = new BigInteger(m.group(1)).multiply(BigInteger.valueOf(factor));
        if (bytes.signum() <= 0 || bytes.bitLength() > 62) {
            throw t.bad("rate-limit", "'" + text + "' must be more than 0 and less than 4 EiB/s");
        }
        return bytes.longValueExact();
    }
}
