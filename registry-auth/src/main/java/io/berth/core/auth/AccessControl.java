package io.berth.core.auth;

import io.berth.core.config.BerthConfig;
import io.berth.core.error.Failures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Who a caller is and what they may do ({@code auth.*}): logins against the htpasswd file and robot
 * accounts (bounded before any password is checked: {@link LoginThrottle}, {@link PasswordChecks}),
 * tokens of the token flow, and the policy with robot grants. Protocol layers ask it; they never
 * decide access themselves. With {@code auth.type: none} everyone may do everything but
 * {@code admin}.
 */
public final class AccessControl {
    public enum Mode {
        NONE,
        HTPASSWD,
        TOKEN
    }

    private static final long RELOAD_CHECK_NANOS = 1_000_000_000L;

    /** User name and password of a basic {@code Authorization} header. */
    public record Credentials(String user, String password) {
        @Override
        public String toString() {
            return "Credentials[user=" + user + "]";
        }
    }

    private final Mode mode;
    private final WatchedFile<Htpasswd> users;
    private final WatchedFile<AccessPolicy> policy;
    private final Robots robots;
    private final TokenService tokens;
    private final String realm;
    private final LoginThrottle throttle;
    private final PasswordChecks checks;

    /** What a login came to. */
    public sealed interface Login {}

    /** The credentials are right: the caller is {@code principal}. */
    public record Accepted(Principal principal) implements Login {}

    /** The credentials are wrong (or not worth checking): 401. */
    public record Rejected() implements Login {}

    /** Not checked: too many failures or checks at once; the caller may try again after a while (429). */
    public record Throttled(long retryAfterMillis, String reason) implements Login {
        /** {@code Retry-After} in whole seconds, at least 1. */
        public long retryAfterSeconds() {
            return Math.max(1, (retryAfterMillis + 999) / 1000);
        }
    }

    private static final Rejected REJECTED = new Rejected();

    /** Counts of the login defences, for metrics and tests. */
    public record LoginStats(
            long passwordChecks,
            int peakConcurrentChecks,
            long throttled,
            long busy,
            int trackedAddresses,
            int trackedUsers) {}

    private final AtomicLong throttled = new AtomicLong();

    private AccessControl(
            Mode mode,
            WatchedFile<Htpasswd> users,
            WatchedFile<AccessPolicy> policy,
            Robots robots,
            TokenService tokens,
            String realm,
            LoginLimits limits) {
        this.mode = mode;
        this.users = users;
        this.policy = policy;
        this.robots = robots;
        this.tokens = tokens;
        this.realm = realm;
        this.throttle = new LoginThrottle(limits);
        this.checks = new PasswordChecks(limits.maxConcurrentChecks());
    }

    /** The robot accounts it authenticates (the admin API manages the same instance: a revocation is seen at once). */
    public Robots robots() {
        return robots;
    }

    /** No access control: everyone may pull, push and delete. */
    public static AccessControl none(Robots robots) {
        return none(robots, LoginLimits.defaults());
    }

    private static AccessControl none(Robots robots, LoginLimits limits) {
        return new AccessControl(Mode.NONE, null, null, robots, null, "", limits);
    }

    /**
     * Access control as {@code auth.*} describes it.
     *
     * @throws IllegalArgumentException one line naming the key and what is wrong with it
     */
    public static AccessControl from(BerthConfig config, Robots robots, Clock clock) {
        Mode mode = Mode.valueOf(config.string(AuthKeys.AUTH_TYPE).toUpperCase(Locale.ROOT));
        LoginLimits limits = LoginLimits.from(config);
        if (mode == Mode.NONE) {
            return none(robots, limits); // the admin API's tokens are still guessed at
        }
        String policyPath = config.string(AuthKeys.AUTH_POLICY);
        WatchedFile<AccessPolicy> policy = policyPath.isBlank()
                ? null
                : new WatchedFile<>(
                        Path.of(policyPath),
                        "auth.policy",
                        AccessPolicy::read,
                        AccessPolicy.grantsNothing(),
                        "nothing is granted by it",
                        RELOAD_CHECK_NANOS);
        String publicKey = config.string(AuthKeys.AUTH_TOKEN_PUBLIC_KEY);
        boolean external = mode == Mode.TOKEN && !publicKey.isBlank();
        String htpasswd = config.string(AuthKeys.AUTH_HTPASSWD_PATH);
        WatchedFile<Htpasswd> users = null;
        if (!htpasswd.isBlank()) {
            users = new WatchedFile<>(
                    Path.of(htpasswd),
                    "auth.htpasswd.path",
                    Htpasswd::read,
                    Htpasswd.nobody(),
                    "no user can log in with a password",
                    RELOAD_CHECK_NANOS);
        } else if (!external) {
            throw new IllegalArgumentException("auth.type " + mode.name().toLowerCase(Locale.ROOT)
                    + " needs auth.htpasswd.path (a file of users, htpasswd -B)");
        }
        TokenService tokens = null;
        String realm = config.string(AuthKeys.AUTH_TOKEN_REALM);
        if (mode == Mode.TOKEN) {
            String issuer = config.string(AuthKeys.AUTH_TOKEN_ISSUER);
            String service = config.string(AuthKeys.AUTH_TOKEN_SERVICE);
            if (external) {
                if (realm.isBlank()) {
                    throw new IllegalArgumentException("auth.token.public-key (an external issuer) needs "
                            + "auth.token.realm, the issuer's token URL");
                }
                try {
                    tokens = TokenService.verifying(PemKeys.publicKey(Path.of(publicKey)), issuer, service, clock);
                } catch (Exception e) {
                    throw new IllegalArgumentException(
                            "cannot use auth.token.public-key " + publicKey + ": " + Failures.describe(e));
                }
            } else {
                Path keyFile = config.path(AuthKeys.AUTH_TOKEN_KEY_FILE);
                try {
                    tokens = TokenService.issuing(
                            PemKeys.loadOrCreateEc(keyFile),
                            issuer,
                            service,
                            config.duration(AuthKeys.AUTH_TOKEN_LIFETIME),
                            clock);
                } catch (Exception e) {
                    throw new IllegalArgumentException(
                            "cannot use auth.token.key-file " + keyFile + ": " + Failures.describe(e));
                }
            }
        }
        return new AccessControl(mode, users, policy, robots, tokens, realm, limits);
    }

    public Mode mode() {
        return mode;
    }

    public boolean enabled() {
        return mode != Mode.NONE;
    }

    public Optional<TokenService> tokens() {
        return Optional.ofNullable(tokens);
    }

    /** The configured token realm, or empty (then the registry's own /auth/token). */
    public String realm() {
        return realm;
    }

    /**
     * The files access control reads (users, policy) and how each was last read: a file that left
     * entries out, or could not be read and so grants nothing, is a problem /healthz and /metrics show.
     */
    public List<WatchedFile<?>> files() {
        List<WatchedFile<?>> out = new ArrayList<>();
        if (users != null) {
            out.add(users);
        }
        if (policy != null) {
            out.add(policy);
        }
        return out;
    }

    /** What the start-up line says of access control. */
    public String describe() {
        return switch (mode) {
            case NONE -> "auth none (anyone may push)";
            case HTPASSWD -> "auth htpasswd " + users.path() + policyText();
            case TOKEN ->
                "auth token " + (tokens.issues() ? "issued by /auth/token" : "from " + realm)
                        + (users == null ? "" : " users " + users.path()) + policyText();
        };
    }

    private String policyText() {
        return policy == null ? ", policy: authenticated users may pull, push, delete" : ", policy " + policy.path();
    }

    /**
     * Checks a login of {@code client} (an address). In this order, so that guessing costs the server
     * nothing once it is refused, and guesses from an address cannot lock out those who share it (a
     * NAT, a proxy): a user name too long to be real (wrong, no work); a robot's secret (256 random
     * bits, cheap to compare, impossible to guess: a right one passes whatever the address did — from
     * a blocked address only when known without reading the database —, a wrong one counts against
     * the address); credentials this address proved lately (right, no
     * bcrypt); the address's allowance of failures ({@link LoginThrottle}); the allowances of
     * address and user name, taken before the check and given back if it succeeds; then the check
     * itself, bcrypt on threads of its own ({@link PasswordChecks}). Never sleeps.
     */
    public Login login(Credentials credentials, String client) {
        String user = credentials.user();
        Principal p = plausible(user) ? Principal.named(user) : Principal.ANONYMOUS;
        if (p.anonymous() || p.kind() == Principal.Kind.ROBOT && !Principal.validRobotName(p.name())) {
            throttle.failed(client); // no such name can exist: not worth a check, nor a place in the map
            return REJECTED;
        }
        Optional<LoginThrottle.Refusal> blocked = throttle.addressRefusal(client);
        if (p.kind() == Principal.Kind.ROBOT) {
            // a robot's secret is 256 random bits compared by its SHA-256: no check to bound, and a per-name
            // allowance would only let guesses from elsewhere lock the robot out; its address's allowance counts.
            // From a blocked address only a secret known without reading the database passes.
            if (blocked.isEmpty()
                    ? robots.authenticate(p.name(), credentials.password()).isPresent()
                    : robots.authenticatedCached(p.name(), credentials.password())) {
                return new Accepted(p);
            }
            if (blocked.isPresent()) {
                return throttled(blocked.get());
            }
            throttle.failed(client);
            return REJECTED;
        }
        if (blocked.isPresent()) {
            // credentials this address proved lately pass a refused address, so that guesses cannot lock out
            // those who share it; but each look costs one of the user's allowance, or the remembered
            // credentials would answer guesses of that user at no cost. Users nobody proved from here are
            // refused without a look (and without touching their allowance)
            if (users == null || !users.get().provedLately(client, user)) {
                return throttled(blocked.get());
            }
            Optional<LoginThrottle.Refusal> userRefused = throttle.takeUser(user);
            if (userRefused.isPresent()) {
                return throttled(userRefused.get());
            }
            if (users != null && users.get().remembered(client, user, credentials.password())) {
                throttle.refundUser(user);
                return new Accepted(p);
            }
            return throttled(blocked.get());
        }
        if (users != null && users.get().remembered(client, user, credentials.password())) {
            return new Accepted(p);
        }
        Optional<LoginThrottle.Refusal> refused = throttle.reserve(client, user);
        if (refused.isPresent()) {
            return throttled(refused.get());
        }
        PasswordChecks.Result result = users == null
                ? PasswordChecks.Result.MISMATCH
                : users.get().verify(client, user, credentials.password(), checks);
        return switch (result) {
            case MATCH -> {
                throttle.refund(client, user);
                yield new Accepted(p);
            }
            case MISMATCH -> REJECTED;
            case BUSY -> {
                throttle.refund(client, user); // not the client's failure
                yield new Throttled(1000, "too many logins are being checked at once");
            }
        };
    }

    /**
     * Whether these credentials were proved lately by {@code client} (a user) or are a robot's known
     * without reading the database: then a request carrying them is no login attempt.
     */
    public boolean remembered(Credentials credentials, String client) {
        if (!plausible(credentials.user())) {
            return false;
        }
        Principal p = Principal.named(credentials.user());
        return switch (p.kind()) {
            case USER -> users != null && users.get().remembered(client, p.name(), credentials.password());
            case ROBOT -> robots.authenticatedCached(p.name(), credentials.password());
            case ANONYMOUS -> false;
        };
    }

    /**
     * Whether {@code client} may present another secret that is not a login (an admin token): empty,
     * or why not. {@link #failedSecret} counts one that was wrong.
     */
    public Optional<Throttled> secretRefusal(String client) {
        return throttle.addressRefusal(client).map(this::throttled);
    }

    /** Counts a wrong secret presented by {@code client} against its allowance of failures. */
    public void failedSecret(String client) {
        throttle.failed(client);
    }

    public LoginStats loginStats() {
        int[] tracked = throttle.tracked();
        return new LoginStats(
                checks.checks(), checks.peakConcurrent(), throttled.get(), checks.busy(), tracked[0], tracked[1]);
    }

    private Throttled throttled(LoginThrottle.Refusal r) {
        throttled.incrementAndGet();
        return new Throttled(r.retryAfterMillis(), r.reason());
    }

    private static boolean plausible(String user) {
        // a character is at most 3 UTF-8 bytes for this test's purpose: no need to encode huge names
        return !user.isEmpty()
                && (user.length() * 3 <= LoginThrottle.MAX_USER_BYTES
                        || user.length() <= LoginThrottle.MAX_USER_BYTES
                                && user.getBytes(StandardCharsets.UTF_8).length <= LoginThrottle.MAX_USER_BYTES);
    }

    /**
     * Every action {@code principal} may take on {@code repository} ({@link AccessPolicy#EVERYTHING} for
     * admin). A robot gets its own grants plus the policy rules naming it — never more (the policy
     * leaves {@code authenticated} and {@code *} rules out for robots, the default policy included).
     */
    public Set<Action> granted(Principal principal, String repository) {
        if (mode == Mode.NONE) {
            return EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE);
        }
        Set<Action> granted = EnumSet.noneOf(Action.class);
        granted.addAll((policy == null ? DEFAULT : policy.get()).granted(principal, repository));
        if (principal.kind() == Principal.Kind.ROBOT) {
            granted.addAll(robots.granted(principal.name(), repository));
        }
        return granted;
    }

    private static final AccessPolicy DEFAULT = AccessPolicy.authenticatedMayWrite();

    public boolean may(Principal principal, String repository, Action action) {
        return granted(principal, repository).contains(action);
    }

    /**
     * Whether {@code header} is Basic with no credentials in it: {@code Basic Og==} (":") as skopeo
     * {@code --no-creds} and podman send it, {@code Basic } with nothing after it, or an empty name and
     * password. Such a caller asked for nothing: it is anonymous, not a failed login.
     */
    public static boolean emptyBasic(String header) {
        if (header == null) {
            return false;
        }
        String h = header.trim();
        if (h.equalsIgnoreCase("Basic")) {
            return true;
        }
        if (!h.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String value = h.substring(6).trim();
        if (value.isEmpty()) {
            return true;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
            return decoded.isEmpty() || decoded.equals(":");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The credentials of a basic {@code Authorization} header value; empty when it is not one. A
     * robot's user name holds a colon ({@code robot:ci-a}), so the password starts after the second.
     */
    public static Optional<Credentials> basic(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int from = decoded.startsWith(Principal.ROBOT_PREFIX) ? Principal.ROBOT_PREFIX.length() : 0;
        int colon = decoded.indexOf(':', from);
        if (colon <= 0) {
            return Optional.empty();
        }
        return Optional.of(new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
    }
}
