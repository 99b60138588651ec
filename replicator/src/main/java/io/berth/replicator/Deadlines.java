package io.berth.replicator;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines for streamed bodies: the HTTP client's own timeout ends with the headers, so a remote
 * trickling a body would hold a reader for ever. A stream given a deadline is closed when it passes,
 * and every read after that fails saying so.
 */
final class Deadlines {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r ->
            Thread.ofPlatform().name("berth-deadlines").daemon().unstarted(r));

    private Deadlines() {
    }

    static InputStream bound(InputStream in, Duration deadline, String what) {
        return new Bounded(in, deadline, what);
    }

    /**
     * {@code handler}'s body, or a {@link java.net.http.HttpTimeoutException} once {@code remaining}
     * has passed: the subscription is cancelled, which closes the connection. (The request's own
     * timeout covers the wait for the headers.)
     */
    static <T> java.net.http.HttpResponse.BodyHandler<T> bound(java.net.http.HttpResponse.BodyHandler<T> handler,
                                                               long deadlineNanos, String what) {
        return info -> new Timed<>(handler.apply(info), deadlineNanos, what);
    }

    private static final class Timed<T> implements java.net.http.HttpResponse.BodySubscriber<T> {
        private final java.net.http.HttpResponse.BodySubscriber<T> inner;
        private final java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        private volatile java.util.concurrent.Flow.Subscription subscription;

        Timed(java.net.http.HttpResponse.BodySubscriber<T> inner, long deadlineNanos, String what) {
            this.inner = inner;
            ScheduledFuture<?> timer = TIMER.schedule(() -> {
                if (result.completeExceptionally(new java.net.http.HttpTimeoutException(what))) {
                    java.util.concurrent.Flow.Subscription s = subscription;
                    if (s != null) {
                        s.cancel();
                    }
                }
            }, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
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
        public java.util.concurrent.CompletionStage<T> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
            subscription = s;
            if (result.isDone() && result.isCompletedExceptionally()) {
                s.cancel();
                return;
            }
            inner.onSubscribe(s);
        }

        @Override
        public void onNext(List<java.nio.ByteBuffer> item) {
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
                throw new java.net.http.HttpTimeoutException(what + ": not complete within "
                        + io.berth.core.config.BerthConfig.formatMillis(deadline.toMillis()));
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
