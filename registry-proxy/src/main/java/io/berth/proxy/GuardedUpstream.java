package io.berth.proxy;

import io.berth.core.model.Digest;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.CachePolicy;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamException.Kind;
import io.berth.core.proxy.UpstreamManifest;
import io.berth.core.proxy.UpstreamReferrers;
import io.berth.core.proxy.UpstreamStatus;
import io.berth.core.proxy.UpstreamTagPage;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * An upstream behind its guards, so that an upstream in trouble costs the cache nothing but a quick
 * answer: a circuit breaker (open after {@code breaker-failures} calls in a row that got no answer or a
 * 5xx: then {@link Kind#CIRCUIT_OPEN} with the time it stays open as retry-after, and no request made;
 * 404, 401/403 and wrong bytes are answers, not failures), a hold-off after a 429 (every call
 * {@link Kind#THROTTLED} until its {@code Retry-After} has passed, else 60 s), an optional rate limiter
 * ({@code rate-limit} requests per second; no permit within the wait: {@code THROTTLED}) and a bulkhead
 * ({@code max-concurrent} calls at once, a blob's body holding its permit until closed; full for the
 * whole wait: {@link Kind#UNAVAILABLE}).
 */
public final class GuardedUpstream implements Upstream {
    /** Without a {@code Retry-After}, a 429 holds calls off this long. */
    static final Duration DEFAULT_HOLD_OFF = Duration.ofSeconds(60);

    /** How the guards are set. {@code wait}: the longest a call waits for a rate or bulkhead permit. */
    public record Guards(
            double rateLimit, int maxConcurrent, int breakerFailures, Duration openFor, Duration permitWait) {
        static Guards of(UpstreamConfig u, Duration wait) {
            return new Guards(u.rateLimit(), u.maxConcurrent(), u.breakerFailures(), u.breakerOpenFor(), wait);
        }
    }

    /** Where the guards are made, so that their meters can be bound ({@link Proxy#bindMetrics}). */
    public record Registries(
            CircuitBreakerRegistry breakers, RateLimiterRegistry limiters, BulkheadRegistry bulkheads) {
        public static Registries create() {
            return new Registries(
                    CircuitBreakerRegistry.ofDefaults(),
                    RateLimiterRegistry.ofDefaults(),
                    BulkheadRegistry.ofDefaults());
        }
    }

    private final Upstream inner;
    private final Clock clock;
    private final Guards guards;
    private final CircuitBreaker breaker;
    private final Optional<RateLimiter> limiter;
    private final Bulkhead bulkhead;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile Instant openedAt;
    private volatile Instant throttledUntil = Instant.MIN;
    private volatile Instant failingSince;
    private volatile String lastFailure;

    public GuardedUpstream(Upstream inner, Guards guards, Clock clock, Registries registries) {
        this.inner = inner;
        this.guards = guards;
        this.clock = clock;
        this.breaker = registries
                .breakers()
                .circuitBreaker(
                        "proxy-" + inner.name(),
                        CircuitBreakerConfig.custom()
                                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                                .slidingWindowSize(guards.breakerFailures())
                                .minimumNumberOfCalls(guards.breakerFailures())
                                .failureRateThreshold(100)
                                .waitDurationInOpenState(guards.openFor())
                                .permittedNumberOfCallsInHalfOpenState(1)
                                .recordException(GuardedUpstream::outage)
                                .build());
        breaker.getEventPublisher().onStateTransition(e -> {
            if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                openedAt = clock.instant();
            }
        });
        this.limiter = guards.rateLimit() <= 0
                ? Optional.empty()
                : Optional.of(registries
                        .limiters()
                        .rateLimiter(
                                "proxy-" + inner.name(),
                                RateLimiterConfig.custom()
                                        .limitForPeriod(Math.max(1, (int) Math.floor(guards.rateLimit())))
                                        .limitRefreshPeriod(
                                                guards.rateLimit() >= 1
                                                        ? Duration.ofSeconds(1)
                                                        : Duration.ofMillis((long) (1000 / guards.rateLimit())))
                                        .timeoutDuration(guards.permitWait())
                                        .build()));
        this.bulkhead = registries
                .bulkheads()
                .bulkhead(
                        "proxy-" + inner.name(),
                        BulkheadConfig.custom()
                                .maxConcurrentCalls(guards.maxConcurrent())
                                .maxWaitDuration(guards.permitWait())
                                .build());
    }

    /** Failures that say the upstream is not there or not well: they count towards opening the breaker. */
    static boolean outage(Throwable t) {
        return t instanceof UpstreamException u && (u.kind() == Kind.UNREACHABLE || u.kind() == Kind.UNAVAILABLE);
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public Optional<RateLimiter> limiter() {
        return limiter;
    }

    public Bulkhead bulkhead() {
        return bulkhead;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public CachePolicy policy() {
        return inner.policy();
    }

    private interface Call<T> {
        T run() throws UpstreamException;
    }

    /** Runs {@code call} through the guards; {@code keep} is true when the answer holds the permit (a blob). */
    private <T> T guarded(String what, Call<T> call, boolean keep) throws UpstreamException {
        Instant now = clock.instant();
        if (now.isBefore(throttledUntil)) {
            throw new UpstreamException(
                    Kind.THROTTLED,
                    "upstream " + name() + " asked to slow down until " + throttledUntil + ": " + what + " not sent",
                    Optional.of(OciUpstream.bounded(Duration.between(now, throttledUntil))),
                    null);
        }
        if (!breaker.tryAcquirePermission()) {
            throw new UpstreamException(
                    Kind.CIRCUIT_OPEN,
                    "upstream " + name() + " failed " + guards.breakerFailures() + " times in a row (last: "
                            + lastFailure + "): " + what + " not sent",
                    Optional.of(remainingOpen()),
                    null);
        }
        if (limiter.isPresent() && !limiter.get().acquirePermission()) {
            breaker.releasePermission();
            throw new UpstreamException(
                    Kind.THROTTLED,
                    "upstream " + name() + ": more than its rate-limit of " + guards.rateLimit()
                            + " requests per second: " + what + " not sent",
                    Optional.of(Duration.ofSeconds(1)),
                    null);
        }
        if (!bulkhead.tryAcquirePermission()) {
            breaker.releasePermission();
            throw new UpstreamException(
                    Kind.UNAVAILABLE,
                    "upstream " + name() + ": " + guards.maxConcurrent()
                            + " requests already in flight (max-concurrent)" + " for "
                            + guards.permitWait().toMillis() + " ms: " + what + " not sent",
                    Optional.of(Duration.ofSeconds(1)),
                    null);
        }
        requests.increment();
        long start = System.nanoTime();
        boolean held = false;
        try {
            T result = call.run();
            held = keep && result != null;
            if (!held) { // a body's outcome is its own: the breaker hears it when the body ends (Permit)
                succeeded(System.nanoTime() - start);
            }
            return result;
        } catch (UpstreamException e) {
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            failed(e);
            throw e;
        } finally {
            if (!held) {
                bulkhead.onComplete();
            }
        }
    }

    private void succeeded(long nanos) {
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        failingSince = null;
    }

    private void failed(UpstreamException e) {
        failures.increment();
        lastFailure = e.getMessage();
        if (e.kind() == Kind.THROTTLED) {
            throttledUntil = clock.instant().plus(e.retryAfter().orElse(DEFAULT_HOLD_OFF));
        }
        if (outage(e) && failingSince == null) {
            failingSince = clock.instant();
        }
    }

    private Duration remainingOpen() {
        Instant opened = openedAt;
        Duration left =
                opened == null ? guards.openFor() : guards.openFor().minus(Duration.between(opened, clock.instant()));
        return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
    }

    @Override
    public Optional<Digest> manifestDigest(RepositoryName remote, Tag tag) throws UpstreamException {
        return guarded("HEAD manifest " + remote + ":" + tag, () -> inner.manifestDigest(remote, tag), false);
    }

    @Override
    public Optional<UpstreamManifest> manifest(RepositoryName remote, Reference reference, long maxBytes)
            throws UpstreamException {
        return guarded(
                "GET manifest " + remote + " " + reference, () -> inner.manifest(remote, reference, maxBytes), false);
    }

    @Override
    public OptionalLong blobSize(RepositoryName remote, Digest digest) throws UpstreamException {
        return guarded("HEAD blob " + remote + "@" + digest, () -> inner.blobSize(remote, digest), false);
    }

    /**
     * The body holds its bulkhead permit until it is closed: a slow download counts as in flight. The
     * call's outcome waits for the body too: a body that breaks or stalls (its read fails) counts towards
     * opening the breaker as a call without an answer does; one read to its end, or closed by the cache
     * (wrong bytes are an answer), counts as a success. Either is timed up to the headers only, so a
     * long download is no slow call.
     */
    @Override
    public Optional<UpstreamBlob> blob(RepositoryName remote, Digest digest) throws UpstreamException {
        String what = "GET blob " + remote + "@" + digest;
        long start = System.nanoTime();
        Optional<UpstreamBlob> b = guarded(
                what,
                () -> {
                    Optional<UpstreamBlob> got = inner.blob(remote, digest);
                    return got.isPresent() ? got : null;
                },
                true);
        return b == null
                ? Optional.empty()
                : Optional.of(new UpstreamBlob(
                        new Permit(b.get().body(), what, System.nanoTime() - start),
                        b.get().length()));
    }

    @Override
    public Optional<UpstreamReferrers> referrers(RepositoryName remote, Digest subject, Optional<String> artifactType)
            throws UpstreamException {
        return guarded(
                "GET referrers " + remote + "@" + subject, () -> inner.referrers(remote, subject, artifactType), false);
    }

    @Override
    public Optional<UpstreamTagPage> tags(RepositoryName remote, Optional<String> last, int n)
            throws UpstreamException {
        return guarded("GET tags " + remote, () -> inner.tags(remote, last, n), false);
    }

    @Override
    public UpstreamStatus status() {
        CircuitBreaker.State s = breaker.getState();
        UpstreamStatus.State state = s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN
                ? UpstreamStatus.State.CIRCUIT_OPEN
                : failingSince != null ? UpstreamStatus.State.FAILING : UpstreamStatus.State.UP;
        return new UpstreamStatus(
                state,
                Optional.ofNullable(failingSince),
                Optional.ofNullable(lastFailure),
                requests.sum(),
                failures.sum());
    }

    /**
     * A blob's body that tells the breaker how it ended (once: failed at its first read error, else a
     * success at its end or close) and gives its bulkhead permit back once, when closed.
     */
    private final class Permit extends FilterInputStream {
        private final String what;
        private final long headerNanos;
        private final AtomicBoolean reported = new AtomicBoolean();
        private final AtomicBoolean released = new AtomicBoolean();

        Permit(InputStream in, String what, long headerNanos) {
            super(in);
            this.what = what;
            this.headerNanos = headerNanos;
        }

        @Override
        public int read() throws IOException {
            try {
                int b = in.read();
                if (b < 0) {
                    ended();
                }
                return b;
            } catch (IOException e) {
                throw broken(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = in.read(b, off, len);
                if (n < 0) {
                    ended();
                }
                return n;
            } catch (IOException e) {
                throw broken(e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return in.skip(n);
            } catch (IOException e) {
                throw broken(e);
            }
        }

        private void ended() {
            if (reported.compareAndSet(false, true)) {
                succeeded(headerNanos);
            }
        }

        private IOException broken(IOException e) {
            if (reported.compareAndSet(false, true)) {
                UpstreamException failure = new UpstreamException(
                        Kind.UNREACHABLE,
                        "upstream " + name() + " stopped sending the body of " + what + ": " + e.getMessage(),
                        Optional.empty(),
                        e);
                breaker.onError(headerNanos, TimeUnit.NANOSECONDS, failure);
                failed(failure);
            }
            return e;
        }

        @Override
        public void close() throws IOException {
            try {
                in.close();
            } finally {
                ended(); // closed before its end without an error: the cache stopped reading, no outage
                if (released.compareAndSet(false, true)) {
                    bulkhead.onComplete();
                }
            }
        }
    }
}
