package io.berth.oci;

import io.berth.core.config.BerthConfig;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines for streamed bodies: the HTTP client's own timeout ends with the headers, so a remote
 * trickling a body would hold a reader for ever. A stream given a deadline is closed when it passes,
 * and every read after that fails saying so.
 */
final class Deadlines {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("berth-deadlines").daemon().unstarted(r));

    private Deadlines() {}

    static InputStream bound(InputStream in, Duration deadline, String what) {
        return new Bounded(in, deadline, what);
    }

    /**
     * {@code handler}'s body, or a {@link java.net.http.HttpTimeoutException} once {@code remaining}
     * has passed: the subscription is cancelled, which closes the connection. (The request's own
     * timeout covers the wait for the headers.)
     */
    static <T> HttpResponse.BodyHandler<T> bound(HttpResponse.BodyHandler<T> handler, long deadlineNanos, String what) {
        return info -> new Timed<>(handler.apply(info), deadlineNanos, what);
    }

    private static final class Timed<T> implements HttpResponse.BodySubscriber<T> {
        private final HttpResponse.BodySubscriber<T> inner;
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;

        Timed(HttpResponse.BodySubscriber<T> inner, long deadlineNanos, String what) {
            this.inner = inner;
            ScheduledFuture<?> timer = TIMER.schedule(
                    () -> {
                        if (result.completeExceptionally(new HttpTimeoutException(what))) {
                            Flow.Subscription s = subscription;
                            if (s != null) {
                                s.cancel();
                            }
                        }
                    },
                    Math.max(0, deadlineNanos - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
            inner.getBody().whenComplete((v, t) -> {
                timer.cancel(false);
                if (t != null) {
                    result.completeExceptionally(t);
                } else {
                    result.complete(v);
                }
            });
        }

        @Override
        public CompletionStage<T> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (result.isDone() && result.isCompletedExceptionally()) {
                s.cancel();
                return;
            }
            inner.onSubscribe(s);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            inner.onNext(item);
        }

        @Override
        public void onError(Throwable t) {
            inner.onError(t);
        }

        @Override
        public void onComplete() {
            inner.onComplete();
        }
    }

    private static final class Bounded extends FilterInputStream {
        private final String what;
        private final Duration deadline;
        private final ScheduledFuture<?> timer;
        private volatile boolean expired;

        Bounded(InputStream in, Duration deadline, String what) {
            super(in);
            this.what = what;
            this.deadline = deadline;
            this.timer = TIMER.schedule(this::expire, deadline.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void expire() {
            expired = true;
            try {
                in.close(); // wakes a read blocked on the body
            } catch (IOException e) {
                // closed anyway
            }
        }

        private void check() throws IOException {
            if (expired) {
                throw new HttpTimeoutException(
                        what + ": not complete within " + BerthConfig.formatMillis(deadline.toMillis()));
            }
        }

        @Override
        public int read() throws IOException {
            check();
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                check();
                throw e;
            }
            check();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            check();
            int n;
            try {
                n = in.read(b, off, len);
            } catch (IOException e) {
                check();
                throw e;
            }
            check();
            return n;
        }

        @Override
        public void close() throws IOException {
            timer.cancel(false);
            in.close();
        }
    }
}
