package io.berth.relay;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Asks the Kafka cluster every second whether it answers, so that an outage shows on {@code /healthz}
 * within seconds whether or not events are being sent: the producer alone notices only when a send
 * fails, which takes its delivery timeout (30 s) — or never, while nothing is pushed. One small
 * request (the cluster's id) per second while the cluster answers; while it does not, one attempt
 * every {@link #EVERY_WHILE_DOWN}, so that the client's connection warnings stay few.
 */
final class BrokerProbe implements AutoCloseable {
    static final Duration EVERY = Duration.ofSeconds(1);
    static final Duration EVERY_WHILE_DOWN = Duration.ofSeconds(3);
    /** How long one probe waits for an answer: an outage shows within {@code EVERY + TIMEOUT}. */
    static final Duration TIMEOUT = Duration.ofMillis(2500);

    private final Admin admin;
    private final Clock clock;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long downSince;
    private volatile String reason;

    /**
     * @param clientProperties the producer's settings; the ones a Kafka admin client knows (security,
     *                         DNS lookup, …) are used, so that it reaches the cluster as the producer does
     */
    BrokerProbe(String bootstrapServers, Map<String, String> clientProperties, Clock clock) {
        Map<String, Object> p = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                p.put(k, v);
            }
        });
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "berth-event-relay-probe");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        // one connection attempt per probe while the cluster is away, not one every 50 ms
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 1000);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, (int) EVERY_WHILE_DOWN.toMillis());
        this.admin = Admin.create(p);
        this.clock = clock;
        this.thread = new Thread(this::run, "berth-event-relay-probe");
        thread.setDaemon(true);
    }

    BrokerProbe start() {
        thread.start();
        return this;
    }

    /** Empty while the cluster answers; else since when it has not, and why. */
    Optional<Unreachable> unreachable() {
        long since = downSince;
        return since == 0 ? Optional.empty() : Optional.of(new Unreachable(Instant.ofEpochMilli(since), reason));
    }

    record Unreachable(Instant since, String reason) {}

    private void run() {
        while (running) {
            long started = clock.millis();
            try {
                admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis()))
                        .clusterId()
                        .get(TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
                downSince = 0;
                reason = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
                if (downSince == 0) {
                    downSince = started;
                }
            }
            try {
                Thread.sleep((downSince == 0 ? EVERY : EVERY_WHILE_DOWN).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(TIMEOUT.toMillis() + 2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(2));
    }
}
