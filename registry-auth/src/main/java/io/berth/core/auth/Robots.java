package io.berth.core.auth;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.RobotRecord;
import io.berth.core.model.Caller;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RobotSecret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Robot accounts: non-human identities for CI, created and revoked through the admin API. Each
 * has a secret (256 random bits, shown once; only its SHA-256 is stored — a fast hash is enough for
 * a secret that cannot be guessed) and is granted actions on repository globs; policy rules naming
 * {@code robot:<name>} grant more. Lookups are cached for a few seconds, so a revocation made on
 * another instance takes effect within that time (at once on this one).
 */
public final class Robots {
    /** What a robot secret looks like: a prefix that secret scanners can recognise, then 43 base64url characters. */
    public static final String SECRET_PREFIX = RobotSecret.PREFIX;

    private static final long CACHE_NANOS = 5_000_000_000L;

    /** A robot account as created: the record and its secret, which is never shown again. */
    public record Created(RobotRecord robot, String secret) {}

    private record Cached(Optional<RobotRecord> robot, long at) {}

    private final MetadataStore metadata;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    public Robots(MetadataStore metadata, Clock clock) {
        this.metadata = metadata;
        this.clock = clock;
    }

    public Created create(
            String name, List<String> repositories, List<String> actions, String description, Caller caller) {
        if (!Principal.validRobotName(name)) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "a robot name is 1 to 64 of a-z, 0-9, '.', '_', '-'" + " starting with a letter or digit",
                    "name",
                    name.length() > 80 ? name.substring(0, 80) : name);
        }
        if (repositories.isEmpty()) {
            throw RegistryException.of(ErrorCode.INVALID_ARGUMENT, "a robot needs at least one repository glob");
        }
        for (String glob : repositories) {
            try {
                RepositoryGlob.of(glob);
            } catch (IllegalArgumentException e) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "repositories: " + e.getMessage(),
                        "repositories",
                        glob.length() > 80 ? glob.substring(0, 80) : glob);
            }
        }
        Set<Action> granted;
        try {
            granted = Action.parseAll(actions);
        } catch (IllegalArgumentException e) {
            throw RegistryException.of(ErrorCode.INVALID_ARGUMENT, e.getMessage());
        }
        if (granted.isEmpty()) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT, "a robot needs at least one action (pull, push, " + "delete, admin)");
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        RobotRecord record = new RobotRecord(
                name,
                hash(secret),
                repositories,
                granted.stream().sorted().map(Action::wire).toList(),
                description,
                clock.millis(),
                caller.actor().isEmpty() ? caller.address() : caller.actor());
        boolean created = metadata.inTransaction(tx -> tx.robots().insert(record));
        if (!created) {
            throw RegistryException.of(
                    ErrorCode.FAILED_PRECONDITION,
                    "a robot named " + name + " exists; revoke it " + "first to replace it",
                    "name",
                    name);
        }
        cache.remove(name);
        return new Created(record, secret);
    }

    public List<RobotRecord> list() {
        return metadata.robots().all();
    }

    public void revoke(String name) {
        boolean removed = metadata.inTransaction(tx -> tx.robots().delete(name));
        cache.remove(name);
        if (!removed) {
            throw RegistryException.of(ErrorCode.NOT_FOUND, "no robot named " + name, "name", name);
        }
    }

    /** The robot whose name and secret these are; empty when none is, or the secret is wrong. */
    public Optional<RobotRecord> authenticate(String name, String secret) {
        Optional<RobotRecord> robot = lookup(name);
        if (robot.isEmpty()) {
            return Optional.empty();
        }
        byte[] expected = robot.get().secretHash().getBytes(StandardCharsets.US_ASCII);
        byte[] given = hash(secret).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, given) ? robot : Optional.empty();
    }

    /**
     * Whether these are a robot's name and secret as far as the cache knows (no database read): a
     * cheap answer for requests of a robot that logged in a moment ago; false when unsure.
     */
    public boolean authenticatedCached(String name, String secret) {
        Cached c = cache.get(name);
        if (c == null || c.robot().isEmpty() || System.nanoTime() - c.at() > CACHE_NANOS) {
            return false;
        }
        return MessageDigest.isEqual(
                c.robot().get().secretHash().getBytes(StandardCharsets.US_ASCII),
                hash(secret).getBytes(StandardCharsets.US_ASCII));
    }

    /** What the robot is granted on {@code repository} by its own account (policy rules add to it). */
    public Set<Action> granted(String name, String repository) {
        Optional<RobotRecord> robot = lookup(name);
        if (robot.isEmpty()
                || robot.get().repositories().stream()
                        .noneMatch(g -> RepositoryGlob.stored(g).matches(repository))) {
            return Set.of();
        }
        return Action.parseAll(robot.get().actions());
    }

    private Optional<RobotRecord> lookup(String name) {
        long now = System.nanoTime();
        Cached c = cache.get(name);
        if (c == null || now - c.at() > CACHE_NANOS) {
            if (cache.size() > 10_000) {
                cache.clear();
            }
            c = new Cached(metadata.robots().get(name), now);
            cache.put(name, c);
        }
        return c.robot();
    }

    static String hash(String secret) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
