package io.berth.core.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Users and their bcrypt password hashes, as {@code htpasswd -B} writes them ({@code name:$2y$…}).
 * Other hash schemes (MD5, SHA-1, crypt, plain text) are refused: they are too cheap to brute-force.
 * Since clients send basic credentials on every request, a password once verified against a hash is
 * remembered for the client address that proved it (as a SHA-256 of address, name, password and
 * hash, never the password) for a few minutes. An unknown user costs a bcrypt check of the file's
 * usual cost, like a known one, so that timing does not tell which names exist.
 */
public final class Htpasswd {
    private static final long REMEMBER_NANOS = 5L * 60 * 1_000_000_000L;
    private static final int REMEMBER_MAX = 10_000;
    /** The cost of the dummy hash when the file has no entry to take it from (htpasswd -B's default is 5; docker's docs use 10+). */
    private static final int DEFAULT_COST = 10;

    private final Map<String, String> hashes;
    private final Map<String, Long> verified = new ConcurrentHashMap<>();
    /** Which (address, user) pairs have a password remembered, without the password: no oracle. */
    private final Map<String, Long> provedFrom = new ConcurrentHashMap<>();
    /** Checked against when the user does not exist; of the cost most entries have. */
    private final String dummy;

    private Htpasswd(Map<String, String> hashes) {
        this.hashes = hashes;
        this.dummy = BCrypt.hashpw("berth-dummy-" + System.nanoTime(), BCrypt.gensalt(typicalCost(hashes.values())));
    }

    /** The cost most hashes have (the higher one on a tie); {@link #DEFAULT_COST} for none. */
    static int typicalCost(Collection<String> hashes) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (String h : hashes) {
            try {
                int cost = Integer.parseInt(h.substring(4, 6));
                if (cost >= 4 && cost <= 31) {
                    counts.merge(cost, 1, Integer::sum);
                }
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                // not a cost bcrypt reads: the entry never matches anyway
            }
        }
        return counts.entrySet().stream()
                .max(Map.Entry.<Integer, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey)
                .orElse(DEFAULT_COST);
    }

    /** Nobody: what is in force while the file cannot be read (fail closed). */
    public static Htpasswd nobody() {
        return new Htpasswd(Map.of());
    }

    /**
     * Reads an htpasswd file, refusing any line it cannot use.
     *
     * @throws IllegalArgumentException one line naming the file, the line and what is wrong
     */
    public static Htpasswd load(Path file) {
        WatchedFile.Loaded<Htpasswd> loaded = read(file);
        if (!loaded.leftOut().isEmpty()) {
            throw new IllegalArgumentException(loaded.leftOut().get(0));
        }
        return loaded.value();
    }

    /**
     * Reads an htpasswd file, leaving out the lines it cannot use (each named, saying why): a user
     * whose line is wrong cannot log in, everyone else can.
     *
     * @throws IllegalArgumentException when the file cannot be read at all
     */
    public static WatchedFile.Loaded<Htpasswd> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read htpasswd file " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read htpasswd file " + file + ": " + e.getMessage());
        }
        Map<String, String> hashes = new HashMap<>();
        List<String> leftOut = new ArrayList<>();
        Set<String> refused = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            // before the user is cut at the first colon ("robot:ci:<hash>" would read as user robot with a
            // wrong hash). The user robot is reserved too: Basic credentials "robot:…" are a robot's
            // (AccessControl.basic), so that user could never log in with docker login.
            if (line.startsWith(Principal.ROBOT_PREFIX)) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1)
                        + ": the user name robot and names starting with 'robot:' are reserved for robot accounts");
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1) + ": expected <user>:<bcrypt hash>");
                continue;
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1);
            if (!(hash.startsWith("$2y$") || hash.startsWith("$2a$") || hash.startsWith("$2b$"))
                    || hash.length() != 60) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1) + " (user " + user
                        + "): only bcrypt entries are accepted (htpasswd -B)");
                refused.add(user);
                continue;
            }
            hashes.put(user, hash);
        }
        // a user with a refused line cannot log in, whatever other lines of theirs say
        hashes.keySet().removeAll(refused);
        return new WatchedFile.Loaded<>(new Htpasswd(Map.copyOf(hashes)), leftOut);
    }

    public int size() {
        return hashes.size();
    }

    /** The bcrypt cost an unknown user's check takes. */
    int dummyCost() {
        return Integer.parseInt(dummy.substring(4, 6));
    }

    /** Whether {@code client} proved some password of {@code user} lately (which one is not asked). */
    public boolean provedLately(String client, String user) {
        Long until = provedFrom.get(client + "\n" + user);
        return until != null && until - System.nanoTime() > 0 && hashes.containsKey(user);
    }

    /** Whether {@code client} proved this password of {@code user} lately: true without any bcrypt check. */
    public boolean remembered(String client, String user, String password) {
        String hash = hashes.get(user);
        if (hash == null) {
            return false;
        }
        Long until = verified.get(rememberKey(client, user, password, hash));
        return until != null && until - System.nanoTime() > 0;
    }

    /**
     * Whether {@code password} is the user's, checked by {@code checks} (or remembered for this client);
     * unknown users cost a check of the usual cost too.
     */
    public PasswordChecks.Result verify(String client, String user, String password, PasswordChecks checks) {
        String hash = hashes.get(user);
        if (hash == null) {
            PasswordChecks.Result r = checks.check(password, dummy);
            return r == PasswordChecks.Result.BUSY ? r : PasswordChecks.Result.MISMATCH;
        }
        if (remembered(client, user, password)) {
            return PasswordChecks.Result.MATCH;
        }
        PasswordChecks.Result r = checks.check(password, hash);
        if (r == PasswordChecks.Result.MATCH) {
            if (verified.size() >= REMEMBER_MAX) {
                verified.clear();
                provedFrom.clear();
            }
            verified.put(rememberKey(client, user, password, hash), System.nanoTime() + REMEMBER_NANOS);
            provedFrom.put(client + "\n" + user, System.nanoTime() + REMEMBER_NANOS);
        }
        return r;
    }

    private static String rememberKey(String client, String user, String password, String hash) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(client.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(user.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(hash.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
