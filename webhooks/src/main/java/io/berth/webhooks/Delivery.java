package io.berth.webhooks;

import io.berth.events.RegistryEvent;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Delivers one event to one endpoint: POSTs until a 2xx, with exponential backoff between attempts
 * behind the endpoint's circuit breaker, up to {@code max-attempts}. Only a request that was really
 * sent is an attempt: while the circuit is open the delivery waits for it to let a request through,
 * so an outage shorter than the attempts' backoff never dead-letters an event that was tried once.
 * {@link #stop} ends a delivery at once (a request in flight is abandoned), without interrupting the
 * thread — which would also break the Kafka client that thread uses.
 */
final class Delivery {
    /** What became of a delivery. */
    record Outcome(boolean delivered, int attempts, String lastError) {}

    /** Most bytes of a receiver's answer body read; a longer one fails the attempt. */
    static final int MAX_ANSWER = 64 * 1024;

    private final WebhookConfig.Endpoint endpoint;
    private final CircuitBreaker breaker;
    private final HttpClient http;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Runnable onFailedAttempt;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile CompletableFuture<?> inFlight;
    private volatile String lastError;

    Delivery(
            WebhookConfig.Endpoint endpoint,
            CircuitBreaker breaker,
            Duration firstBackoff,
            Duration maxBackoff,
            Runnable onFailedAttempt) {
        this.endpoint = endpoint;
        this.breaker = breaker;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.onFailedAttempt = onFailedAttempt;
        // never follow a redirect: the secret's signature and the configured headers go to the configured
        // URL only, and a 3xx is a failed attempt (Redirect.NEVER is the default; said here to keep it)
        this.http = HttpClient.newBuilder()
                .connectTimeout(endpoint.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** The last failure of any attempt, for /healthz. */
    String lastError() {
        return lastError;
    }

    boolean stopping() {
        return stopped.getCount() == 0;
    }

    /** Delivers {@code body}; empty when stopped first (then the event counts as not done). */
    Optional<Outcome> deliver(RegistryEvent event, byte[] body) {
        int attempts = 0;
        long backoff = firstBackoff.toMillis();
        String why = null;
        while (!stopping()) {
            if (!breaker.tryAcquirePermission()) {
                // the circuit is open: waiting for it is not an attempt
                await(Duration.ofMillis(200));
                continue;
            }
            attempts++;
            long start = System.nanoTime();
            try {
                post(event, body);
                breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                return Optional.of(new Outcome(true, attempts, null));
            } catch (CancellationException e) {
                breaker.releasePermission();
                return Optional.empty();
            } catch (IOException e) {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                why = e.getMessage();
                lastError = why;
                onFailedAttempt.run();
            }
            if (attempts >= endpoint.maxAttempts()) {
                return Optional.of(new Outcome(false, attempts, why));
            }
            await(Duration.ofMillis(backoff));
            backoff = Math.min(backoff * 2, maxBackoff.toMillis());
        }
        return Optional.empty();
    }

    private void post(RegistryEvent event, byte[] body) throws IOException {
        long timestamp = Instant.now().getEpochSecond();
        HttpRequest.Builder req = HttpRequest.newBuilder(endpoint.url())
                .timeout(endpoint.timeout())
                .header("Content-Type", EndpointWorker.MEDIA_TYPE)
                .header(Signature.TIMESTAMP_HEADER, Long.toString(timestamp))
                .header(Signature.EVENT_ID_HEADER, event.id())
                .header(Signature.EVENT_TYPE_HEADER, event.type())
                .header("User-Agent", "berth-webhooks")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (!endpoint.secret().isEmpty()) {
            req.header(Signature.HEADER, Signature.sign(endpoint.secret(), timestamp, body));
        }
        endpoint.headers().forEach(req::header);
        CompletableFuture<HttpResponse<Void>> f = http.sendAsync(req.build(), info -> boundedDiscard());
        inFlight = f;
        if (stopping()) {
            f.cancel(true);
        }
        HttpResponse<Void> res;
        try {
            // the request's own timeout ends at the response headers (JDK 25): this one covers the whole
            // exchange, so a receiver trickling or never ending its answer cannot hold the endpoint
            res = f.get(endpoint.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true); // closes the connection
            throw new IOException("no complete answer within " + shown(endpoint.timeout()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (ExecutionException e) {
            throw new IOException(describe(e.getCause()), e.getCause());
        } finally {
            inFlight = null;
        }
        if (res.statusCode() / 100 != 2) {
            throw new IOException(
                    "HTTP " + res.statusCode() + (res.statusCode() / 100 == 3 ? " (redirects are not followed)" : ""));
        }
    }

    /**
     * Reads and drops the answer's body, failing once it passes {@link #MAX_ANSWER}: a receiver's
     * answer is a status, and a body without end must not be read until the deadline.
     */
    private static HttpResponse.BodySubscriber<Void> boundedDiscard() {
        return new HttpResponse.BodySubscriber<>() {
            private final CompletableFuture<Void> done = new CompletableFuture<>();
            private Flow.Subscription subscription;
            private long read;

            @Override
            public CompletionStage<Void> getBody() {
                return done;
            }

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
                for (ByteBuffer b : item) {
                    read += b.remaining();
                }
                if (read > MAX_ANSWER && !done.isDone()) {
                    subscription.cancel();
                    done.completeExceptionally(new IOException("answer body over " + MAX_ANSWER / 1024 + " KiB"));
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(null);
            }
        };
    }

    /** "5s", "1.5s", "250ms": an endpoint's timeout as its configuration would say it. */
    private static String shown(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms < 1000 ? ms + "ms" : ms / 1000.0 + "s";
    }

    /** What went wrong with a request, in words: "connection refused", "no answer within 5s". */
    static String describe(Throwable t) {
        if (t instanceof HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (t instanceof HttpTimeoutException) {
            return "no answer in time";
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectException) {
                return "connection refused";
            }
            if (c instanceof UnresolvedAddressException || c instanceof UnknownHostException) {
                return "unknown host";
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private void await(Duration d) {
        try {
            stopped.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped.countDown();
        }
    }

    /** Ends the delivery in progress (if any) and every later one. */
    void stop() {
        stopped.countDown();
        CompletableFuture<?> f = inFlight;
        if (f != null) {
            f.cancel(true);
        }
    }
}
