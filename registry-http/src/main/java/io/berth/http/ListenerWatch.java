package io.berth.http;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Notices when the HTTP listener stops accepting connections without being told to. Helidon 4.5's
 * accept loop ends for good on the first failure of {@code accept} — for lack of file descriptors,
 * or an OutOfMemoryError — and closes its socket while the process runs on: the port refuses
 * everyone and nothing says so. Every second the watch tries to bind the listener's address and
 * port itself: while the listener holds them the bind fails; when it succeeds twice in a row the
 * socket is gone, and {@code onLost} is told once (the process exits so that its supervisor starts
 * it again). A probe that cannot even open a socket (no descriptors left) is not a verdict, but
 * readiness reports it.
 */
final class ListenerWatch implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ListenerWatch.class.getName());

    private final InetAddress address;
    private final int port;
    private final Consumer<String> onLost;
    private final ScheduledExecutorService ticker;
    private volatile String problem;
    private int freeInARow;
    private boolean lost;

    ListenerWatch(InetAddress address, int port, Duration period, Consumer<String> onLost) {
        this.address = address;
        this.port = port;
        this.onLost = onLost;
        this.ticker = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("berth-listener-watch").unstarted(r));
        ticker.scheduleWithFixedDelay(this::probe, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Why the listener cannot serve, for readiness; empty while it can. */
    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** One probe; a failure of its own must not end the schedule. */
    private void probe() {
        try {
            probeNow();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "watching the HTTP listener: " + e);
        }
    }

    private void probeNow() {
        if (lost) {
            return;
        }
        boolean free;
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            try {
                probe.bind(new InetSocketAddress(address, port), 1);
                free = true;
            } catch (BindException held) {
                free = false; // the listener still has it
            }
        } catch (IOException e) {
            problem = "cannot open sockets: " + e.getMessage();
            freeInARow = 0;
            return;
        }
        if (!free) {
            problem = null;
            freeInARow = 0;
            return;
        }
        if (++freeInARow < 2) {
            return;
        }
        lost = true;
        String why = "the HTTP listener on " + address.getHostAddress() + ":" + port + " stopped accepting connections";
        problem = why;
        LOG.log(System.Logger.Level.ERROR, why);
        try {
            onLost.accept(why);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "acting on the lost listener failed", e);
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
