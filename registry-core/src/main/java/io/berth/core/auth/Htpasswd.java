package io.berth.core.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * Users and their bcrypt password hashes, as {@code htpasswd -B} writes them ({@code name:$2y$…}).
 * Other hash schemes (MD5, SHA-1, crypt, plain text) are refused: they are too cheap to brute-force.
 * Since clients send basic credentials on every request, a password once verified against a hash is
 * remembered (as a SHA-256 of name, password and hash, never the password) for a few minutes.
 */
public final class Htpasswd {
    private static final long REMEMBER_NANOS = 5L * 60 * 1_000_000_000L;
    private static final int REMEMBER_MAX = 10_000;
    /** Compared against when the user does not exist, so that unknown names take as long as wrong passwords. */
    private static final String DUMMY = BCrypt.hashpw("berth-dummy", BCrypt.gensalt(5));

    private final Map<String, String> hashes;
    private final Map<String, Long> verified = new ConcurrentHashMap<>();

    private Htpasswd(Map<String, String> hashes) {
        this.hashes = hashes;
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
        java.util.Set<String> refused = new java.util.HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1) + ": expected <user>:<bcrypt hash>");
                continue;
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1);
            if (!(hash.startsWith("$2y$") || hash.startsWith("$2a$") || hash.startsWith("$2b$")) || hash.length() != 60) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1) + " (user " + user
                        + "): only bcrypt entries are accepted (htpasswd -B)");
                refused.add(user);
                continue;
            }
            if (user.startsWith(Principal.ROBOT_PREFIX)) {
                leftOut.add("htpasswd file " + file + " line " + (i + 1)
                        + ": user names starting with 'robot:' are reserved for robot accounts");
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

    /** Whether {@code password} is the user's; unknown users take as long as wrong passwords. */
    public boolean verify(String user, String password) {
        String hash = hashes.get(user);
        if (hash == null) {
            BCrypt.checkpw(password, DUMMY);
            return false;
        }
        String key = rememberKey(user, password, hash);
        Long until = verified.get(key);
        long now = System.nanoTime();
        if (until != null && until - now > 0) {
            return true;
        }
        boolean ok;
        try {
            ok = BCrypt.checkpw(password, hash);
        } catch (IllegalArgumentException e) {
            ok = false;
        }
        if (ok) {
            if (verified.size() >= REMEMBER_MAX) {
                verified.clear();
            }
            verified.put(key, now + REMEMBER_NANOS);
        }
        return ok;
    }

    private static String rememberKey(String user, String password, String hash) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
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
