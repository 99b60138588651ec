package io.berth.core.auth;

import io.berth.core.config.BerthConfig;
import io.berth.core.config.ConfigKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Who a caller is and what they may do ({@code auth.*}): logins against the htpasswd file and robot
 * accounts (slowed down after failures), tokens of the token flow, and the policy with robot
 * grants. Protocol layers ask it; they never decide access themselves. With {@code auth.type: none}
 * everyone may do everything but {@code admin}.
 */
public final class AccessControl {
    public enum Mode { NONE, HTPASSWD, TOKEN }

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
    private final LoginThrottle throttle = new LoginThrottle();

    private AccessControl(Mode mode, WatchedFile<Htpasswd> users, WatchedFile<AccessPolicy> policy, Robots robots,
                          TokenService tokens, String realm) {
        this.mode = mode;
        this.users = users;
        this.policy = policy;
        this.robots = robots;
        this.tokens = tokens;
        this.realm = realm;
    }

    /** No access control: everyone may pull, push and delete. */
    public static AccessControl none(Robots robots) {
        return new AccessControl(Mode.NONE, null, null, robots, null, "");
    }

    /**
     * Access control as {@code auth.*} describes it.
     *
     * @throws IllegalArgumentException one line naming the key and what is wrong with it
     */
    public static AccessControl from(BerthConfig config, Robots robots, Clock clock) {
        Mode mode = Mode.valueOf(config.string(ConfigKeys.AUTH_TYPE).toUpperCase(java.util.Locale.ROOT));
        if (mode == Mode.NONE) {
            return none(robots);
        }
        String policyPath = config.string(ConfigKeys.AUTH_POLICY);
        WatchedFile<AccessPolicy> policy = policyPath.isBlank() ? null : new WatchedFile<>(Path.of(policyPath),
                "auth.policy", AccessPolicy::read, AccessPolicy.grantsNothing(), "nothing is granted by it",
                RELOAD_CHECK_NANOS);
        String publicKey = config.string(ConfigKeys.AUTH_TOKEN_PUBLIC_KEY);
        boolean external = mode == Mode.TOKEN && !publicKey.isBlank();
        String htpasswd = config.string(ConfigKeys.AUTH_HTPASSWD_PATH);
        WatchedFile<Htpasswd> users = null;
        if (!htpasswd.isBlank()) {
            users = new WatchedFile<>(Path.of(htpasswd), "auth.htpasswd.path", Htpasswd::read, Htpasswd.nobody(),
                    "no user can log in with a password", RELOAD_CHECK_NANOS);
        } else if (!external) {
            throw new IllegalArgumentException("auth.type " + mode.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs auth.htpasswd.path (a file of users, htpasswd -B)");
        }
        TokenService tokens = null;
        String realm = config.string(ConfigKeys.AUTH_TOKEN_REALM);
        if (mode == Mode.TOKEN) {
            String issuer = config.string(ConfigKeys.AUTH_TOKEN_ISSUER);
            String service = config.string(ConfigKeys.AUTH_TOKEN_SERVICE);
            if (external) {
                if (realm.isBlank()) {
                    throw new IllegalArgumentException("auth.token.public-key (an external issuer) needs "
                            + "auth.token.realm, the issuer's token URL");
                }
                try {
                    tokens = TokenService.verifying(PemKeys.publicKey(Path.of(publicKey)), issuer, service, clock);
                } catch (Exception e) {
                    throw new IllegalArgumentException("cannot use auth.token.public-key " + publicKey + ": "
                            + io.berth.core.error.Failures.describe(e));
                }
            } else {
                Path keyFile = config.path(ConfigKeys.AUTH_TOKEN_KEY_FILE);
                try {
                    tokens = TokenService.issuing(PemKeys.loadOrCreateEc(keyFile), issuer, service,
                            config.duration(ConfigKeys.AUTH_TOKEN_LIFETIME), clock);
                } catch (Exception e) {
                    throw new IllegalArgumentException("cannot use auth.token.key-file " + keyFile + ": "
                            + io.berth.core.error.Failures.describe(e));
                }
            }
        }
        return new AccessControl(mode, users, policy, robots, tokens, realm);
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
    public java.util.List<WatchedFile<?>> files() {
        java.util.List<WatchedFile<?>> out = new java.util.ArrayList<>();
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
            case TOKEN -> "auth token " + (tokens.issues() ? "issued by /auth/token" : "from " + realm)
                    + (users == null ? "" : " users " + users.path()) + policyText();
        };
    }

    private String policyText() {
        return policy == null ? ", policy: authenticated users may pull, push, delete" : ", policy " + policy.path();
    }

    /** The principal whose credentials these are; empty, after a delay that grows with repeated failures. */
    public Optional<Principal> login(Credentials credentials, String client) {
        Principal p = Principal.named(credentials.user());
        boolean ok = switch (p.kind()) {
            case ROBOT -> robots.authenticate(p.name(), credentials.password()).isPresent();
            case USER -> users != null && users.get().verify(p.name(), credentials.password());
            case ANONYMOUS -> false;
        };
        if (ok) {
            throttle.succeeded(client, credentials.user());
            return Optional.of(p);
        }
        long delay = throttle.failed(client, credentials.user());
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    /** Every action {@code principal} may take on {@code repository} ({@link AccessPolicy#EVERYTHING} for admin). */
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
