package io.berth.core.auth;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Runs bcrypt checks on a few platform threads of their own ({@link LoginLimits#maxConcurrentChecks()}):
 * never more at once, whatever arrives. Off the request threads on purpose — bcrypt is hundreds of
 * milliseconds of CPU, and on the virtual threads that serve requests it would hold their few
 * carriers (health checks waited 10 s behind 64 concurrent logins); here the operating system
 * shares the CPU with everything else. A few checks more may wait ({@link #QUEUE_PER_THREAD} per
 * thread, at most {@link #MAX_WAIT_MILLIS} to start); the rest are {@link Result#BUSY} at once. A
 * check that started is always waited for, so every check run gives its caller an answer.
 */
public final class PasswordChecks {
    public enum Result {
        MATCH,
        MISMATCH,
        BUSY
    }

    static final int QUEUE_PER_THREAD = 4;
    static final long MAX_WAIT_MILLIS = 2_000;

    private final ThreadPoolExecutor pool;
    private final AtomicLong checks = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();

    public PasswordChecks(int threads) {
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(
                threads,
                threads,
                30,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(threads * QUEUE_PER_THREAD),
                r -> Thread.ofPlatform()
                        .daemon()
                        .name("berth-password-check-" + n.incrementAndGet())
                        .unstarted(r));
        pool.allowCoreThreadTimeOut(true); // idle, they cost nothing
    }

    /** Whether {@code password} matches the bcrypt {@code hash}; {@link Result#BUSY} when too many are checked. */
    public Result check(String password, String hash) {
        FutureTask<Boolean> task = new FutureTask<>(() -> {
            peak.accumulateAndGet(running.incrementAndGet(), Math::max);
            checks.incrementAndGet();
            try {
                return BCrypt.checkpw(password, hash);
            } catch (IllegalArgumentException e) {
                return false; // not a hash bcrypt reads
            } finally {
                running.decrementAndGet();
            }
        });
        try {
            pool.execute(task);
        } catch (RejectedExecutionException e) {
            busy.incrementAndGet();
            return Result.BUSY;
        }
        try {
            try {
                return task.get(MAX_WAIT_MILLIS, TimeUnit.MILLISECONDS) ? Result.MATCH : Result.MISMATCH;
            } catch (TimeoutException e) {
                if (pool.remove(task)) { // still waiting: given up unchecked
                    busy.incrementAndGet();
                    return Result.BUSY;
                }
                // started meanwhile: one bcrypt more at most, and its answer is the caller's
                return task.get() ? Result.MATCH : Result.MISMATCH;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.remove(task);
            busy.incrementAndGet();
            return Result.BUSY;
        } catch (ExecutionException e) {
            return Result.MISMATCH;
        }
    }

    /** bcrypt evaluations started so far. */
    public long checks() {
        return checks.get();
    }

    /** Checks refused or given up because too many were running. */
    public long busy() {
        return busy.get();
    }

    /** Most bcrypt evaluations that ran at once so far. */
    public int peakConcurrent() {
        return peak.get();
    }

    public int threads() {
        return pool.getMaximumPoolSize();
    }
}
