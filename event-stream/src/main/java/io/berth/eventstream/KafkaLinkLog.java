package io.berth.eventstream;

import java.lang.ref.WeakReference;
import java.text.MessageFormat;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * What a Berth process logs of its Kafka clients while the broker is away. The clients themselves
 * warn at every reconnection attempt (about two lines a second, for as long as the outage lasts);
 * instead there is one WARN when the broker goes away, a summary every {@link #SUMMARY_EVERY} while
 * it stays away, and one INFO when it is back.
 *
 * <p>A filter on the log handler ({@link #filter()}, installed by the log set-up) notices the
 * clients' connection warnings: the first one turns the link "down" and is replaced by the WARN; from
 * then on every Kafka client warning is held back and counted. The link is back once a client created
 * through {@link EventStream} holds a connection to a broker again (its {@code connection-count}
 * metric) and no connection warning came for a few seconds.
 */
public final class KafkaLinkLog {
    /** How often a summary is logged while the broker stays away. */
    static final Duration SUMMARY_EVERY = Duration.ofSeconds(60);
    /** Quiet time without connection warnings before a connected client means "back". */
    static final Duration SETTLED = Duration.ofSeconds(3);

    private static final String KAFKA = "org.apache.kafka";
    private static final String LOGGER = "berth.kafka";
    /** Kafka clients' words for a broker they cannot reach. */
    private static final Pattern TROUBLE = Pattern.compile(
            "could not be established|disconnected|Connection refused"
                    + "|connection to node .* (terminated|failed)|Node may not be available|timed out|broker may not be "
                    + "available",
            Pattern.CASE_INSENSITIVE);

    private static final Pattern CLIENT_PREFIX =
            Pattern.compile("^\\[(?:Producer|Consumer|AdminClient) clientId=" + "([^,\\]]+)[^\\]]*\\] ");
    private static final KafkaLinkLog INSTANCE = new KafkaLinkLog(
            Clock.systemUTC(), (level, line) -> Logger.getLogger(LOGGER).log(level, line));

    /** Where the gate's own lines go (the process log; a list in tests). */
    interface Sink {
        void log(Level level, String line);
    }

    private final Clock clock;
    private final Sink sink;
    /** Producers, consumers or (in tests) metric suppliers, weakly held: closed clients fall away. */
    private final List<WeakReference<Object>> clients = new CopyOnWriteArrayList<>();

    private final Filter filter = this::loggable;
    private long downSince;
    private long lastTrouble;
    private long lastSummary;
    private long heldBack;
    private long heldBackTotal;
    private Thread watcher;

    KafkaLinkLog(Clock clock, Sink sink) {
        this.clock = clock;
        this.sink = sink;
    }

    /** The process's one instance. */
    public static KafkaLinkLog get() {
        return INSTANCE;
    }

    /** The handler filter that holds back the Kafka clients' warnings while the broker is away. */
    public Filter filter() {
        return filter;
    }

    /** A producer or consumer whose connections tell when the broker is back. */
    void watch(Object client) {
        clients.add(new WeakReference<>(client));
        synchronized (this) {
            if (watcher == null && this == INSTANCE) {
                watcher = Thread.ofPlatform().name("berth-kafka-link").daemon().start(this::watch);
            }
        }
    }

    private void watch() {
        while (true) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            if (down()) {
                tick(connected()); // the clients' metrics are read only while the broker is away
            }
        }
    }

    /** Whether any watched client holds a connection to a broker now. */
    boolean connected() {
        boolean any = false;
        for (WeakReference<Object> ref : clients) {
            Object client = ref.get();
            if (client == null) {
                clients.remove(ref);
                continue;
            }
            try {
                for (Map.Entry<MetricName, ? extends Metric> m : metrics(client).entrySet()) {
                    if (m.getKey().name().equals("connection-count")
                            && m.getKey().group().endsWith("-metrics")
                            && m.getValue().metricValue() instanceof Number n
                            && n.doubleValue() > 0) {
                        any = true;
                    }
                }
            } catch (RuntimeException e) {
                // a client closing: it does not count
            }
        }
        return any;
    }

    @SuppressWarnings("unchecked")
    private static Map<MetricName, ? extends Metric> metrics(Object client) {
        if (client instanceof Producer<?, ?> p) {
            return p.metrics();
        }
        if (client instanceof Consumer<?, ?> c) {
            return c.metrics();
        }
        return ((Supplier<Map<MetricName, ? extends Metric>>) client).get();
    }

    /** Once a second: back when connected and quiet; a summary when one is due. */
    void tick(boolean connected) {
        String info = null;
        synchronized (this) {
            if (downSince == 0) {
                return;
            }
            long now = clock.millis();
            if (connected && now - lastTrouble >= SETTLED.toMillis()) {
                info = String.format(
                        Locale.ROOT,
                        "Kafka is reachable again after %s (%d warnings of its clients held " + "back)",
                        seconds(now - downSince),
                        heldBackTotal);
                downSince = 0;
                heldBack = 0;
                heldBackTotal = 0;
            } else if (now - lastSummary >= SUMMARY_EVERY.toMillis()) {
                info = String.format(
                        Locale.ROOT,
                        "Kafka still unreachable, for %s now (%d warnings of its clients held "
                                + "back in the last %s)",
                        seconds(now - downSince),
                        heldBack,
                        seconds(now - lastSummary));
                lastSummary = now;
                heldBack = 0;
            }
        }
        // logged outside the lock: the log handler holds its own lock while it asks the filter
        if (info != null) {
            sink.log(Level.INFO, info);
        }
    }

    /** The filter: false for the Kafka client records held back. */
    boolean loggable(LogRecord r) {
        String name = r.getLoggerName();
        if (name == null || !name.startsWith(KAFKA) || r.getLevel().intValue() < Level.WARNING.intValue()) {
            return true;
        }
        String message = message(r);
        boolean trouble = TROUBLE.matcher(message).find();
        synchronized (this) {
            long now = clock.millis();
            if (downSince == 0) {
                if (!trouble) {
                    return true;
                }
                downSince = now;
                lastSummary = now;
                lastTrouble = now;
            } else {
                if (trouble) {
                    lastTrouble = now;
                }
                heldBack++;
                heldBackTotal++;
                return false;
            }
        }
        sink.log(
                Level.WARNING,
                "Kafka is unreachable: " + plain(message) + "; its clients keep retrying (their "
                        + "warnings are held back: a summary every " + SUMMARY_EVERY.toSeconds()
                        + " s, and a line when it "
                        + "is back)");
        return false;
    }

    private static String message(LogRecord r) {
        String m = r.getMessage() == null ? "" : r.getMessage();
        if (r.getParameters() != null && r.getParameters().length > 0) {
            try {
                m = MessageFormat.format(m, r.getParameters());
            } catch (IllegalArgumentException e) {
                // left as it is
            }
        }
        if (r.getThrown() != null && r.getThrown().getMessage() != null) {
            m = m + " (" + r.getThrown().getMessage() + ")";
        }
        return m;
    }

    /** "[Producer clientId=x] Connection to node …" as "x: connection to node …". */
    private static String plain(String message) {
        var m = CLIENT_PREFIX.matcher(message);
        String rest = m.find() ? m.group(1) + ": " + message.substring(m.end()) : message;
        return rest.strip().replaceAll("\\.$", "");
    }

    private static String seconds(long millis) {
        return millis < 120_000
                ? String.format(Locale.ROOT, "%.0f s", millis / 1000.0)
                : String.format(Locale.ROOT, "%d min", millis / 60_000);
    }

    /** Whether the broker is considered away now (for tests). */
    synchronized boolean down() {
        return downSince != 0;
    }
}
