package io.berth.core.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The one check for keys a file does not define (webhook and replication files, retention policies):
 * a misspelt key is refused, never silently ignored — {@code repository:} meant as
 * {@code repositories:} would otherwise widen an endpoint to every repository — and the refusal
 * names the nearest known key, so that the fix is obvious.
 */
public final class KnownKeys {
    private KnownKeys() {}

    /** The first of {@code given} that is not one of {@code known}, if any. */
    public static Optional<String> firstUnknown(Collection<?> given, Collection<String> known) {
        return given.stream()
                .map(String::valueOf)
                .filter(k -> !known.contains(k))
                .findFirst();
    }

    /**
     * Why {@code key} is refused, as the end of a line that names it: {@code is not a known key: did you
     * mean repositories?} when a known key is close, else the known keys.
     *
     * @param what what the keys are ("key", "policy key", "rule")
     */
    public static String refusal(String key, Collection<String> known, String what) {
        return nearest(key, known)
                .map(n -> "is not a " + what + ": did you mean " + n + "?")
                .orElse("is not a " + what + " (" + String.join(", ", known) + ")");
    }

    /**
     * The known key nearest to {@code key}, when it is close enough to be a slip: one it begins or that
     * begins it ({@code reconcile} for {@code reconcile-interval}), else the nearest in edit distance
     * within a third of the key's length (at least 2). Case and '_' for '-' are ignored.
     */
    public static Optional<String> nearest(String key, Collection<String> known) {
        String k = normal(key);
        String best = null;
        int bestScore = Integer.MAX_VALUE;
        for (String candidate : known) {
            String c = normal(candidate);
            boolean prefix = !k.isEmpty() && (c.startsWith(k) || k.startsWith(c));
            // a prefix either way beats any edit; among those, the least added or cut
            int score = prefix ? Math.abs(c.length() - k.length()) : 1000 + distance(k, c);
            if (score < bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        return best != null && (bestScore < 1000 || bestScore - 1000 <= Math.max(2, k.length() / 3))
                ? Optional.of(best)
                : Optional.empty();
    }

    private static String normal(String s) {
        return s.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
