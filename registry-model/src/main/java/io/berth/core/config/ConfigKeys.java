package io.berth.core.config;

import io.berth.core.config.ConfigKey.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The configuration keys of the core (HTTP, logging, admin, the built-in backends, uploads,
 * manifests, events, listings) and, through {@link #all()}, those the installed modules own
 * ({@link ConfigKeySet}). {@code docs/configuration.md} lists every one.
 */
public final class ConfigKeys {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    public static final ConfigKey HTTP_HOST =
            new ConfigKey("http.host", "127.0.0.1", Type.HOST, "Address the HTTP API (/v2, health, metrics) binds to.");
    public static final ConfigKey HTTP_PORT = new ConfigKey("http.port", "5000", Type.PORT, "Port of the HTTP API.");
    public static final ConfigKey HTTP_PUBLIC_URL = new ConfigKey(
            "http.public-url",
            "",
            Type.URL,
            "The URL clients use to reach this registry (https://registry.example.com behind a TLS proxy): the token "
                    + "realm and the URLs in events are made from it, never from a request's Host header. Empty: "
                    + "the address each connection reached (realm), this host's name and http.port (events).");
    public static final ConfigKey HTTP_ALLOWED_HOSTS = new ConfigKey(
            "http.allowed-hosts",
            "",
            Type.LIST,
            "Host names requests may address (Host header, port aside), comma-separated; others get 403. '*': any. "
                    + "Empty: any, except with auth.type none on a loopback http.host, where only loopback names and "
                    + "http.public-url's host are served (DNS rebinding).");
    public static final ConfigKey HTTP_SHUTDOWN_TIMEOUT = ConfigKey.duration(
            "http.shutdown-timeout",
            "30s",
            Duration.ofMillis(1),
            Duration.ofHours(1),
            "How long SIGTERM waits for in-flight requests before closing.");
    public static final ConfigKey HTTP_SHUTDOWN_GRACE = ConfigKey.duration(
            "http.shutdown-grace",
            "5s",
            Duration.ZERO,
            Duration.ofMinutes(10),
            "After SIGTERM, how long /readyz answers 503 while the listener still"
                    + " serves, so that load balancers take the node out before connections close.");
    public static final ConfigKey HTTP_READ_TIMEOUT = ConfigKey.duration(
            "http.read-timeout",
            "60s",
            Duration.ofSeconds(1),
            Duration.ofDays(1),
            "A request body that sends nothing for this long is aborted"
                    + " (its upload keeps only acknowledged bytes).");
    public static final ConfigKey HTTP_MIN_BODY_RATE = ConfigKey.size(
            "http.min-body-rate",
            "1KiB",
            0,
            1024 * MIB,
            "Slowest a request body may arrive, in bytes per second averaged over http.min-rate-window of waiting for "
                    + "it (the first window is its grace); a slower one is cut and its connection closed (its upload "
                    + "keeps only acknowledged bytes). 0: no minimum.");
    public static final ConfigKey HTTP_MIN_SEND_RATE = ConfigKey.size(
            "http.min-send-rate",
            "1KiB",
            0,
            1024 * MIB,
            "Slowest a client may take a response, in bytes per second averaged over http.min-rate-window of "
                    + "waiting for it to read; a slower one's connection is closed. 0: no minimum.");
    public static final ConfigKey HTTP_MIN_RATE_WINDOW = ConfigKey.duration(
            "http.min-rate-window",
            "30s",
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            "Window over which http.min-body-rate and " + "http.min-send-rate are averaged.");
    public static final ConfigKey HTTP_HEADER_TIMEOUT = ConfigKey.duration(
            "http.header-timeout",
            "20s",
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            "A request's line and headers must arrive within this from "
                    + "its first byte (a new connection's first request: from the connection's opening), else the "
                    + "connection is closed.");
    public static final ConfigKey HTTP_IDLE_TIMEOUT = ConfigKey.duration(
            "http.idle-timeout",
            "120s",
            Duration.ofSeconds(1),
            Duration.ofDays(1),
            "A kept-alive connection that starts no new request for this " + "long is closed.");
    public static final ConfigKey HTTP_MAX_CONNECTIONS = ConfigKey.count(
            "http.max-connections",
            "1024",
            1,
            1_000_000,
            "Most HTTP connections open at once; more are answered 503 and closed at once.");
    public static final ConfigKey HTTP_MAX_CONNECTIONS_PER_CLIENT = ConfigKey.count(
            "http.max-connections-per-client",
            "256",
            1,
            1_000_000,
            "Most HTTP connections open at once from one "
                    + "client address (an IPv6 client: its /64); more are answered 429 and closed at once.");
    public static final ConfigKey HTTP_ACCESS_LOG = new ConfigKey(
            "http.access-log",
            "true",
            Type.BOOLEAN,
            "Log one line per request (method, path, status, bytes, duration, request id).");
    public static final ConfigKey LOG_LEVEL = ConfigKey.choice(
            "log.level",
            "info",
            List.of("error", "warn", "info", "debug"),
            "Least severe log messages of Berth's own loggers written: error, warn, info or debug (debug "
                    + "also shows libraries' INFO messages, never their debug output; see log.levels).");
    public static final ConfigKey LOG_LEVELS = new ConfigKey(
            "log.levels",
            "",
            Type.LEVELS,
            "Levels of single loggers, comma-separated logger=level (error, warn, info, debug, trace, off), e.g. "
                    + "io.helidon.webserver=debug. Loggers that write requests as they go over the wire stay off.");
    public static final ConfigKey LOG_FORMAT = ConfigKey.choice(
            "log.format",
            "text",
            List.of("text", "json"),
            "Log lines as text, or as JSON objects (timestamp, level, logger, message, request_id, access fields).");
    public static final ConfigKey ADMIN_HOST =
            new ConfigKey("admin.host", "127.0.0.1", Type.HOST, "Address the gRPC admin API binds to.");
    public static final ConfigKey ADMIN_PORT =
            new ConfigKey("admin.port", "5001", Type.PORT, "Port of the gRPC admin API.");
    public static final ConfigKey ADMIN_TOKENS = new ConfigKey(
                    "admin.tokens",
                    "",
                    Type.LIST,
                    "Bearer tokens the admin API accepts, comma-separated; 'ro:<token>' may only read. None: the admin "
                            + "port serves health only.")
            .asSecret();
    public static final ConfigKey ADMIN_TLS_CERT = new ConfigKey(
            "admin.tls.cert",
            "",
            Type.TEXT,
            "PEM certificate chain of the admin API; with admin.tls.key it serves gRPC over TLS.");
    public static final ConfigKey ADMIN_TLS_KEY = new ConfigKey(
            "admin.tls.key",
            "",
            Type.TEXT,
            "PEM private key of admin.tls.cert: PKCS#8, SEC1 (EC PRIVATE KEY) or PKCS#1 (RSA PRIVATE KEY).");
    public static final ConfigKey ADMIN_TLS_CLIENT_CA = new ConfigKey(
            "admin.tls.client-ca",
            "",
            Type.TEXT,
            "PEM CA certificates: admin clients presenting a certificate they signed are the user named by its CN.");
    public static final ConfigKey HTTP_TLS_CERT = new ConfigKey(
            "http.tls.cert",
            "",
            Type.TEXT,
            "PEM certificate chain; with http.tls.key the HTTP API serves HTTPS only. Reloaded when it changes.");
    public static final ConfigKey HTTP_TLS_KEY = new ConfigKey(
            "http.tls.key",
            "",
            Type.TEXT,
            "PEM private key of http.tls.cert: PKCS#8, SEC1 (EC PRIVATE KEY) or PKCS#1 (RSA PRIVATE KEY). Reloaded "
                    + "when it changes.");
    public static final ConfigKey HTTP_SENDFILE = new ConfigKey(
            "http.sendfile",
            "true",
            Type.BOOLEAN,
            "Send the bodies of filesystem blobs with sendfile(2), from the page cache straight to the client's "
                    + "connection (zero copy); false: copy them through the server's memory. Not with TLS.");
    public static final ConfigKey HTTP_SOCKET_READS = new ConfigKey(
            "http.socket-reads",
            "true",
            Type.BOOLEAN,
            "Read chunked upload bodies, and those of 1 MiB or more that announce their Content-Length, from the "
                    + "socket straight into the storage's write buffers; false: through the HTTP server's reader (more "
                    + "copies). Not with TLS.");
    public static final ConfigKey HTTP_RATE_LIMIT = ConfigKey.count(
            "http.rate-limit",
            "0",
            0,
            1_000_000,
            "Requests per second one client (a user when authenticated, else an address) may make; more get 429 "
                    + "with Retry-After. 0: no limit.");
    public static final ConfigKey HTTP_RATE_LIMIT_BURST = ConfigKey.count(
            "http.rate-limit-burst",
            "200",
            1,
            10_000_000,
            "Requests a client may make at once above http.rate-limit before it is slowed down.");
    public static final ConfigKey ADMIN_MAX_MESSAGE_SIZE = ConfigKey.size(
            "admin.max-message-size",
            "1MiB",
            KIB,
            64 * MIB,
            "Largest gRPC message the admin API accepts; larger calls get RESOURCE_EXHAUSTED.");
    public static final ConfigKey ADMIN_MAX_METADATA_SIZE = ConfigKey.size(
            "admin.max-metadata-size",
            "8KiB",
            KIB,
            MIB,
            "Largest header block (metadata) of an admin call; larger calls are refused.");
    public static final ConfigKey ADMIN_MAX_CALLS_PER_CONNECTION = ConfigKey.count(
            "admin.max-calls-per-connection",
            "16",
            1,
            10_000,
            "Admin calls one connection may have open at once (HTTP/2 streams); the client queues " + "more.");
    public static final ConfigKey ADMIN_MAX_EVENT_WATCHES = ConfigKey.count(
            "admin.max-event-watches",
            "32",
            1,
            1000,
            "WatchEvents streams the admin listener serves at once; more are refused with RESOURCE_EXHAUSTED.");
    public static final ConfigKey ADMIN_IDLE_TIMEOUT = ConfigKey.duration(
            "admin.idle-timeout",
            "5m",
            Duration.ofSeconds(1),
            Duration.ofDays(1),
            "An admin connection without calls for this long is closed.");
    public static final ConfigKey GC_GRACE = ConfigKey.duration(
            "gc.grace",
            "1h",
            Duration.ZERO,
            Duration.ofDays(365),
            "Garbage collection leaves blobs and untagged manifests younger than "
                    + "this alone (uploads and pushes in flight), unless a run says otherwise.");
    /** The built-in backend; storage-s3 adds {@code s3} ({@link #all()}). */
    public static final ConfigKey STORAGE_TYPE = ConfigKey.choice(
            "storage.type",
            "filesystem",
            List.of("filesystem"),
            "Blob storage backend: filesystem, or s3 (any S3-compatible object store; storage.s3.*).");

    public static final ConfigKey STORAGE_FS_ROOT = new ConfigKey(
            "storage.filesystem.root", "./data/blobs", Type.PATH, "Directory holding blobs and in-progress uploads.");
    public static final ConfigKey STORAGE_FS_FSYNC = new ConfigKey(
            "storage.filesystem.fsync",
            "true",
            Type.BOOLEAN,
            "Flush each written chunk, and each new or renamed file's directory, to disk before acknowledging it.");
    public static final ConfigKey STORAGE_FS_DIRECT_IO = new ConfigKey(
            "storage.filesystem.direct-io",
            "false",
            Type.BOOLEAN,
            "Write uploads with O_DIRECT where the filesystem supports it: large uploads churn no page cache, but "
                    + "the first pull of a new blob reads the disk. Off: through the page cache, flushed behind the "
                    + "writes, so the pull that follows a push is served from memory.");
    /** The built-in database; metadata-postgres adds {@code postgres} ({@link #all()}). */
    public static final ConfigKey METADATA_TYPE = ConfigKey.choice(
            "metadata.type",
            "sqlite",
            List.of("sqlite"),
            "Metadata database: sqlite (one instance), or postgres (shared by several instances).");

    public static final ConfigKey METADATA_SQLITE_PATH =
            new ConfigKey("metadata.sqlite.path", "./data/berth.db", Type.PATH, "SQLite database file.");
    public static final ConfigKey UPLOADS_EXPIRY = ConfigKey.duration(
            "uploads.expiry",
            "24h",
            Duration.ofSeconds(1),
            Duration.ofDays(365),
            "An upload session untouched this long is removed with its data.");
    public static final ConfigKey UPLOADS_PURGE_INTERVAL = ConfigKey.duration(
            "uploads.purge-interval",
            "10m",
            Duration.ofSeconds(1),
            Duration.ofDays(1),
            "How often expired upload sessions are looked for.");
    public static final ConfigKey UPLOADS_MAX_CONCURRENT = ConfigKey.count(
            "uploads.max-concurrent",
            "128",
            1,
            100_000,
            "Most upload bodies streaming in at once; more get 429 with Retry-After.");
    public static final ConfigKey UPLOADS_MAX_CONCURRENT_PER_CLIENT = ConfigKey.count(
            "uploads.max-concurrent-per-client",
            "16",
            1,
            100_000,
            "A client's share of upload bodies streaming at once (a user when authenticated, else an address): "
                    + "beyond it, a client borrows idle room while fewer than uploads.max-concurrent minus a reserve "
                    + "(the larger of this and a quarter of it) stream; else 429 with Retry-After.");
    public static final ConfigKey UPLOADS_MAX_SESSIONS_PER_CLIENT = ConfigKey.count(
            "uploads.max-sessions-per-client",
            "1000",
            1,
            100_000_000,
            "Most open upload sessions one client (a user when authenticated, else an address) may hold; more get 429.");
    public static final ConfigKey MANIFESTS_MAX_SIZE = ConfigKey.size(
            "manifests.max-size", "4MiB", KIB, 64 * MIB, "Largest manifest accepted; larger pushes get 413.");
    public static final ConfigKey MANIFESTS_MAX_BUFFERED = ConfigKey.size(
            "manifests.max-buffered",
            "16MiB",
            KIB,
            1024 * MIB,
            "Most bytes of manifest bodies held in memory at once (each counted at its Content-Length, "
                    + "or manifests.max-size without one); bodies over a 64th of it share three quarters, the rest stays for "
                    + "small ones; pushes beyond get 429 with Retry-After.");
    public static final ConfigKey MANIFESTS_MAX_BUFFERED_PER_CLIENT = ConfigKey.size(
            "manifests.max-buffered-per-client",
            "8MiB",
            KIB,
            1024 * MIB,
            "Most bytes of manifest bodies one client "
                    + "(a user when authenticated, else an address) may have in memory at once; pushes beyond get 429 "
                    + "with Retry-After.");
    public static final ConfigKey MANIFESTS_BODY_TIMEOUT = ConfigKey.duration(
            "manifests.body-timeout",
            "30s",
            Duration.ofSeconds(1),
            Duration.ofHours(1),
            "A manifest body must arrive whole within this of its "
                    + "first read, else the connection is closed and its room in manifests.max-buffered freed.");
    public static final ConfigKey MANIFESTS_MAX_REFERENCES = ConfigKey.count(
            "manifests.max-references",
            "10000",
            1,
            1_000_000,
            "Most blobs and child manifests one manifest may reference; more is MANIFEST_INVALID.");
    public static final ConfigKey MANIFESTS_ALLOW_SPARSE = new ConfigKey(
            "manifests.allow-sparse",
            "false",
            Type.BOOLEAN,
            "Accept image manifests whose layers, and indexes whose child manifests, the repository does "
                    + "not hold (sparse manifests, as a mirror of some platforms needs).");
    public static final ConfigKey PULLS_FLUSH_INTERVAL = ConfigKey.duration(
            "metadata.pull-flush-interval",
            "5s",
            Duration.ofMillis(100),
            Duration.ofHours(1),
            "How often last-pulled times are written to metadata.");
    public static final ConfigKey EVENTS_KAFKA_BOOTSTRAP = new ConfigKey(
            "events.kafka.bootstrap-servers",
            "",
            Type.TEXT,
            "Kafka brokers (host:port,…) events are published to; empty: none is published (events.record).");
    public static final ConfigKey EVENTS_KAFKA_TOPIC = new ConfigKey(
            "events.kafka.topic",
            "berth.events",
            Type.TEXT,
            "Kafka topic of the events (the record key is the repository).");
    public static final ConfigKey EVENTS_SOURCE = new ConfigKey(
            "events.source",
            "",
            Type.TEXT,
            "CloudEvents source of this registry's events (a URI reference); empty: //<host:port of http.public-url>, "
                    + "or //<host name>:<http.port>.");
    public static final ConfigKey EVENTS_PULL = new ConfigKey(
            "events.pull",
            "false",
            Type.BOOLEAN,
            "Also publish pull events, one per repository and manifest per metadata.pull-flush-interval.");
    public static final ConfigKey EVENTS_RECORD = new ConfigKey(
            "events.record",
            "true",
            Type.BOOLEAN,
            "Record every change as an event in the outbox also without Kafka, for the admin API's ListEvents and "
                    + "WatchEvents (kept for events.retention); false: without events.kafka.bootstrap-servers none "
                    + "is recorded. With Kafka, events are always recorded.");
    public static final ConfigKey EVENTS_RETENTION = ConfigKey.duration(
            "events.retention",
            "24h",
            Duration.ofMinutes(1),
            Duration.ofDays(365),
            "Published events stay in the outbox this long after their publication, then are pruned; events not "
                    + "yet published never are. Without Kafka, events stay this long after they were recorded.");
    /** Prefix of Kafka producer properties passed through as they are (events.kafka.properties.linger.ms: 5). */
    public static final String EVENTS_KAFKA_PROPERTIES = "events.kafka.properties.";

    public static final ConfigKey LISTING_MAX_PAGE = ConfigKey.count(
            "listing.max-page-size",
            "10000",
            1,
            1_000_000,
            "Most entries one tags/list, _catalog or referrers page returns.");
    public static final ConfigKey LISTING_MAX_CATALOG_SKIP = ConfigKey.count(
            "listing.max-catalog-skip",
            "1000",
            10,
            10_000_000,
            "Most repository names one _catalog request passes over because the caller may not pull "
                    + "them; then the page holds what was found and its Link continues from there.");

    /** The core's keys, in help order; {@link #all()} adds the installed sets' keys among them. */
    private static final List<ConfigKey> CORE = List.of(
            HTTP_HOST,
            HTTP_PORT,
            HTTP_PUBLIC_URL,
            HTTP_ALLOWED_HOSTS,
            HTTP_SHUTDOWN_TIMEOUT,
            HTTP_SHUTDOWN_GRACE,
            HTTP_READ_TIMEOUT,
            HTTP_MIN_BODY_RATE,
            HTTP_MIN_SEND_RATE,
            HTTP_MIN_RATE_WINDOW,
            HTTP_HEADER_TIMEOUT,
            HTTP_IDLE_TIMEOUT,
            HTTP_MAX_CONNECTIONS,
            HTTP_MAX_CONNECTIONS_PER_CLIENT,
            HTTP_ACCESS_LOG,
            LOG_LEVEL,
            LOG_LEVELS,
            LOG_FORMAT,
            ADMIN_HOST,
            ADMIN_PORT,
            ADMIN_TOKENS,
            ADMIN_TLS_CERT,
            ADMIN_TLS_KEY,
            ADMIN_TLS_CLIENT_CA,
            HTTP_TLS_CERT,
            HTTP_TLS_KEY,
            HTTP_SENDFILE,
            HTTP_SOCKET_READS,
            HTTP_RATE_LIMIT,
            HTTP_RATE_LIMIT_BURST,
            // registry-auth's keys (AuthKeys) follow http.rate-limit-burst
            ADMIN_MAX_MESSAGE_SIZE,
            ADMIN_MAX_METADATA_SIZE,
            ADMIN_MAX_CALLS_PER_CONNECTION,
            ADMIN_MAX_EVENT_WATCHES,
            ADMIN_IDLE_TIMEOUT,
            GC_GRACE,
            STORAGE_TYPE,
            STORAGE_FS_ROOT,
            STORAGE_FS_FSYNC,
            // storage-s3's keys (S3Keys) follow storage.filesystem.fsync
            STORAGE_FS_DIRECT_IO,
            METADATA_TYPE,
            METADATA_SQLITE_PATH,
            // metadata-postgres's keys (PostgresKeys) follow metadata.sqlite.path
            PULLS_FLUSH_INTERVAL,
            UPLOADS_EXPIRY,
            UPLOADS_PURGE_INTERVAL,
            UPLOADS_MAX_CONCURRENT,
            UPLOADS_MAX_CONCURRENT_PER_CLIENT,
            UPLOADS_MAX_SESSIONS_PER_CLIENT,
            MANIFESTS_MAX_SIZE,
            MANIFESTS_MAX_BUFFERED,
            MANIFESTS_MAX_BUFFERED_PER_CLIENT,
            MANIFESTS_BODY_TIMEOUT,
            MANIFESTS_MAX_REFERENCES,
            MANIFESTS_ALLOW_SPARSE,
            EVENTS_KAFKA_BOOTSTRAP,
            EVENTS_KAFKA_TOPIC,
            EVENTS_SOURCE,
            EVENTS_PULL,
            EVENTS_RECORD,
            EVENTS_RETENTION,
            LISTING_MAX_PAGE,
            LISTING_MAX_CATALOG_SKIP);

    /** Prefixes under which any key is accepted and passed through. */
    public static final List<String> PASS_THROUGH = List.of(EVENTS_KAFKA_PROPERTIES);

    private ConfigKeys() {}

    /**
     * Every key this build knows: the core's and those of each {@link ConfigKeySet} on the class path,
     * in the order help and the docs list them, each {@link Type#CHOICE} key with the values the sets
     * add. Read the choices of a key here, not from its constant ({@link #STORAGE_TYPE} alone admits
     * the built-in backend only).
     */
    public static List<ConfigKey> all() {
        return Installed.KEYS;
    }

    /** The key named {@code name} among {@link #all()}. */
    public static Optional<ConfigKey> byName(String name) {
        return all().stream().filter(k -> k.name().equals(name)).findFirst();
    }

    /** The structured sections ({@link ConfigKeySet#sections()}) of the sets on the class path. */
    public static List<String> sections() {
        return Installed.SECTIONS;
    }

    /** Found once, on first use: the class path does not change while a process runs. */
    private static final class Installed {
        static final List<ConfigKeySet> SETS =
                ServiceLoader.load(ConfigKeySet.class, ConfigKeys.class.getClassLoader()).stream()
                        .map(ServiceLoader.Provider::get)
                        .toList();
        static final List<ConfigKey> KEYS = merge(CORE, SETS);
        static final List<String> SECTIONS =
                SETS.stream().flatMap(set -> set.sections().stream()).sorted().toList();
    }

    /**
     * {@code core} with each set's keys after the key it names and its choices added. A set may follow
     * another set's key. Sets are taken in the order of their class names, so the result does not hang
     * on the order of the class path. A key defined twice, or a set that follows or adds choices to a
     * key nobody defines, is a mistake of the build and fails at once.
     */
    static List<ConfigKey> merge(List<ConfigKey> core, List<ConfigKeySet> sets) {
        List<ConfigKeySet> sorted = new ArrayList<>(sets);
        sorted.sort(Comparator.comparing(set -> set.getClass().getName()));
        List<ConfigKey> keys = new ArrayList<>(core);
        Map<String, String> lastAfter = new HashMap<>(); // anchor → the last key placed after it
        List<ConfigKeySet> pending = new ArrayList<>(sorted);
        while (!pending.isEmpty()) {
            boolean placed = false;
            for (Iterator<ConfigKeySet> it = pending.iterator(); it.hasNext(); ) {
                ConfigKeySet set = it.next();
                int at = indexOf(keys, lastAfter.getOrDefault(set.after(), set.after()));
                if (at < 0) {
                    continue;
                }
                for (ConfigKey k : set.keys()) {
                    if (indexOf(keys, k.name()) >= 0) {
                        throw new IllegalStateException("configuration key " + k.name() + " is defined twice ("
                                + set.getClass().getName() + ")");
                    }
                }
                keys.addAll(at + 1, set.keys());
                if (!set.keys().isEmpty()) {
                    lastAfter.put(set.after(), set.keys().getLast().name());
                }
                it.remove();
                placed = true;
            }
            if (!placed) {
                throw new IllegalStateException("configuration key sets follow keys nobody defines: "
                        + pending.stream()
                                .map(set -> set.getClass().getName() + " after " + set.after())
                                .toList());
            }
        }
        for (ConfigKeySet set : sorted) {
            for (Map.Entry<String, List<String>> e : new TreeMap<>(set.choices()).entrySet()) {
                int at = indexOf(keys, e.getKey());
                if (at < 0) {
                    throw new IllegalStateException(
                            set.getClass().getName() + " adds choices to " + e.getKey() + ", which nobody defines");
                }
                keys.set(at, keys.get(at).withChoices(e.getValue()));
            }
        }
        return List.copyOf(keys);
    }

    private static int indexOf(List<ConfigKey> keys, String name) {
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
