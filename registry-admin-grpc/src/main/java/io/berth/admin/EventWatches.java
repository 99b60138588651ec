package io.berth.admin;

import io.berth.core.error.RegistryException;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.registry.EventLog;
import io.berth.proto.admin.v1.Event;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The WatchEvents streams of one admin listener. Each stream reads the outbox in batches of at most
 * {@link #BATCH} rows and reads the next only when the caller took what was sent: it sends while
 * gRPC says the call {@link ServerCallStreamObserver#isReady() is ready} (the caller's HTTP/2 window
 * and a small buffer) and otherwise waits for its on-ready signal, so a caller that reads nothing
 * holds one batch on the server, never the outbox. At the end of the outbox a stream looks again
 * every {@link #POLL_MILLIS} ms (commits of other instances sharing the database included). At most
 * {@code max} streams at once; more are refused with RESOURCE_EXHAUSTED before anything is read.
 */
final class EventWatches implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventWatches.class.getName());
    static final int BATCH = 100;
    static final long POLL_MILLIS = 200;

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong rowsRead = new AtomicLong();
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    // the work of a stream runs on a virtual thread (it waits for the database); the timer only wakes it
    private final ExecutorService work = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("berth-event-watch-", 0).factory());
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "berth-event-watch-timer");
        t.setDaemon(true);
        return t;
    });

    EventWatches(int max) {
        this.max = max;
    }

    /** Streams open now. */
    int open() {
        return open.get();
    }

    /** Outbox rows the streams have read since start (for tests: a caller that reads nothing stops them). */
    long rowsRead() {
        return rowsRead.get();
    }

    /**
     * Starts a stream of the events after {@code position} that {@code filter} takes, or refuses it
     * (RESOURCE_EXHAUSTED) when {@code max} streams are open.
     */
    void start(
            EventLog log,
            long position,
            EventLog.Filter filter,
            ServerCallStreamObserver<Event> call,
            Function<OutboxEvent, Event> toProto,
            String requestId) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            call.onError(Status.RESOURCE_EXHAUSTED
                    .withDescription(max + " event watches are open, the most admin.max-event-watches allows")
                    .asRuntimeException());
            return;
        }
        Stream s = new Stream(log, position, filter, call, toProto, requestId);
        streams.add(s);
        call.setOnCancelHandler(s::end);
        call.setOnReadyHandler(s::wake);
        s.wake();
    }

    /** Ends every stream (UNAVAILABLE: the listener stops) and the threads. */
    @Override
    public void close() {
        for (Stream s : streams) {
            s.fail(Status.UNAVAILABLE.withDescription("the admin listener is stopping"));
        }
        timer.shutdownNow();
        work.shutdownNow();
    }

    private final class Stream {
        private final EventLog log;
        private final EventLog.Filter filter;
        private final ServerCallStreamObserver<Event> call;
        private final Function<OutboxEvent, Event> toProto;
        private final String requestId;
        /** Read, not yet sent: at most one batch. */
        private final ArrayDeque<OutboxEvent> ready = new ArrayDeque<>();

        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicBoolean ended = new AtomicBoolean();
        private final AtomicBoolean timerSet = new AtomicBoolean();
        private long position;

        Stream(
                EventLog log,
                long position,
                EventLog.Filter filter,
                ServerCallStreamObserver<Event> call,
                Function<OutboxEvent, Event> toProto,
                String requestId) {
            this.log = log;
            this.position = position;
            this.filter = filter;
            this.call = call;
            this.toProto = toProto;
            this.requestId = requestId;
        }

        /** Something changed (ready again, the poll's time): pump, on one thread at a time. */
        void wake() {
            if (ended.get()) {
                return;
            }
            if (wip.getAndIncrement() == 0) {
                try {
                    work.execute(this::drain);
                } catch (RuntimeException e) {
                    // stopping: close() ends the stream
                    wip.set(0);
                }
            }
        }

        private void drain() {
            do {
                try {
                    pump();
                } catch (EventLog.PrunedException e) {
                    fail(Status.OUT_OF_RANGE.withDescription(e.getMessage()));
                } catch (RegistryException e) {
                    fail(AdminErrors.of(e).getStatus());
                } catch (RuntimeException e) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "event watch (request " + requestId + ") failed: " + e.getMessage());
                    fail(Status.UNAVAILABLE.withDescription("reading the events failed: " + e.getMessage()));
                }
            } while (wip.decrementAndGet() != 0);
        }

        /** Sends while the caller takes them; reads the next batch only when the last one is sent. */
        private void pump() {
            while (!ended.get() && !call.isCancelled()) {
                if (ready.isEmpty()) {
                    EventLog.Page page = log.read(position, filter, BATCH);
                    rowsRead.addAndGet(Math.max(0, page.position() - position));
                    position = page.position();
                    ready.addAll(page.events());
                    if (ready.isEmpty()) {
                        if (page.end()) {
                            later();
                            return;
                        }
                        continue; // a scan's worth of rows the filter did not take
                    }
                }
                while (!ready.isEmpty()) {
                    if (!call.isReady()) {
                        return; // the on-ready handler wakes the stream
                    }
                    Event next = toProto.apply(ready.poll());
                    synchronized (this) { // never beside fail()'s onError
                        if (ended.get()) {
                            return;
                        }
                        call.onNext(next);
                    }
                }
            }
        }

        private void later() {
            if (timerSet.compareAndSet(false, true)) {
                try {
                    timer.schedule(
                            () -> {
                                timerSet.set(false);
                                wake();
                            },
                            POLL_MILLIS,
                            TimeUnit.MILLISECONDS);
                } catch (RuntimeException e) {
                    timerSet.set(false); // stopping
                }
            }
        }

        synchronized void fail(Status status) {
            if (end()) {
                try {
                    call.onError(status.asRuntimeException());
                } catch (RuntimeException e) {
                    // the call is over already
                }
            }
        }

        /** Ends the stream once; whether this call ended it. */
        boolean end() {
            if (!ended.compareAndSet(false, true)) {
                return false;
            }
            streams.remove(this);
            open.decrementAndGet();
            return true;
        }
    }
}
