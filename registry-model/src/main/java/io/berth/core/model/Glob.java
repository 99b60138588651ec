package io.berth.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one glob matcher of Berth (repository globs of policies, robots, rules, replication and
 * webhooks; tag filters of the admin API). A name is a list of components separated by {@code /}; so
 * is a glob. A component {@code **} stands for whole components: zero or more of them, except at the
 * end of a glob with more components, where it stands for one or more ({@code team-a/**} is what lies
 * below {@code team-a}, not {@code team-a} itself — as in {@code .gitignore}); a glob {@code **} alone
 * matches every name. In any other component, {@code *} matches a run of characters and {@code ?}
 * one character, never a {@code /} (consecutive stars are one star); every other character stands
 * for itself.
 *
 * <p>Matching never backtracks over components: it follows the set of glob positions reachable so
 * far, one name component at a time, and compares a component with at most one glob component per
 * position — at most {@code O(length of glob × length of name)} character steps, whatever both hold
 * (a regular expression with nested {@code .*} took exponential time on the same input).
 */
public final class Glob {
    /** The longest glob accepted from a user; longer ones could only be mistakes or an attack. */
    public static final int MAX_LENGTH = 256;

    private final String text;
    /** One entry per component: null for {@code **}, else its characters with star runs collapsed. */
    private final char[][] parts;

    private Glob(String text) {
        this.text = text;
        List<char[]> out = new ArrayList<>();
        for (String c : components(text)) {
            out.add(c.equals("**") ? null : collapseStars(c));
        }
        this.parts = out.toArray(new char[0][]);
    }

    /**
     * The glob {@code text}, whatever it holds (callers check what their names may contain).
     *
     * @throws IllegalArgumentException when it is empty or longer than {@link #MAX_LENGTH}
     */
    public static Glob of(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(
                    "is " + text.length() + " characters long; at most " + MAX_LENGTH + " are allowed");
        }
        return new Glob(text);
    }

    /** For text accepted earlier under other checks (stored rules): any length, never refused. */
    static Glob unchecked(String text) {
        return new Glob(text);
    }

    public boolean matches(String name) {
        int k = parts.length;
        boolean[] at = new boolean[k + 1];
        boolean[] next = new boolean[k + 1];
        at[0] = true;
        closure(at);
        int start = 0;
        while (true) {
            int end = name.indexOf('/', start);
            int stop = end < 0 ? name.length() : end;
            boolean any = false;
            for (int i = 0; i < k; i++) {
                if (!at[i]) {
                    continue;
                }
                if (parts[i] == null) {
                    next[i] = true; // ** takes this component and may take more
                    next[i + 1] = true;
                    any = true;
                } else if (componentMatches(parts[i], name, start, stop)) {
                    next[i + 1] = true;
                    any = true;
                }
            }
            if (!any) {
                return false;
            }
            boolean[] t = at;
            at = next;
            next = t;
            Arrays.fill(next, false);
            closure(at);
            if (end < 0) {
                return at[k];
            }
            start = end + 1;
        }
    }

    /** A {@code **} that is not the last component may also stand for no component at all. */
    private void closure(boolean[] at) {
        for (int i = 0; i < parts.length - 1; i++) {
            if (at[i] && parts[i] == null) {
                at[i + 1] = true;
            }
        }
    }

    /**
     * Whether one glob component matches {@code name[from, to)}: the classic greedy scan that, on a
     * mismatch, lets the last star take one more character — at most {@code O(|glob| × |name|)}.
     */
    private static boolean componentMatches(char[] p, String name, int from, int to) {
        int pi = 0;
        int si = from;
        int star = -1;
        int starAt = from;
        while (si < to) {
            if (pi < p.length && p[pi] == '*') {
                star = pi++;
                starAt = si;
            } else if (pi < p.length && (p[pi] == '?' || p[pi] == name.charAt(si))) {
                pi++;
                si++;
            } else if (star >= 0) {
                pi = star + 1;
                si = ++starAt;
            } else {
                return false;
            }
        }
        while (pi < p.length && p[pi] == '*') {
            pi++;
        }
        return pi == p.length;
    }

    private static char[] collapseStars(String c) {
        StringBuilder b = new StringBuilder(c.length());
        for (int i = 0; i < c.length(); i++) {
            char ch = c.charAt(i);
            if (ch != '*' || b.isEmpty() || b.charAt(b.length() - 1) != '*') {
                b.append(ch);
            }
        }
        return b.toString().toCharArray();
    }

    /** The components of a name or glob: split at every {@code /}, empty ones kept. */
    static List<String> components(String s) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (true) {
            int end = s.indexOf('/', start);
            if (end < 0) {
                out.add(s.substring(start));
                return out;
            }
            out.add(s.substring(start, end));
            start = end + 1;
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
