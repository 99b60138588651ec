package io.berth.core.auth;

import io.berth.core.config.BerthConfig;
import java.time.Duration;

/**
 * How much password guessing is tolerated ({@code auth.login.*}): the failed logins one address and
 * one user name may make in a row, how often one is forgiven, and how many password checks run at
 * once.
 */
public record LoginLimits(int failuresPerAddress, int failuresPerUser, Duration refill, int maxConcurrentChecks) {
    public LoginLimits {
        if (failuresPerAddress < 1
                || failuresPerUser < 1
                || maxConcurrentChecks < 1
                || refill.isNegative()
                || refill.isZero()) {
            throw new IllegalArgumentException("login limits must be positive");
        }
    }

    public static LoginLimits from(BerthConfig config) {
        int concurrent = config.intCount(AuthKeys.AUTH_LOGIN_MAX_CONCURRENT);
        return new LoginLimits(
                config.intCount(AuthKeys.AUTH_LOGIN_FAILURES_PER_ADDRESS),
                config.intCount(AuthKeys.AUTH_LOGIN_FAILURES_PER_USER),
                config.duration(AuthKeys.AUTH_LOGIN_FAILURE_REFILL),
                // bcrypt is all CPU: half the machine at most, so that a login flood leaves the rest serving
                concurrent > 0 ? concurrent : Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    }

    public static LoginLimits defaults() {
        return from(BerthConfig.defaults());
    }
}
