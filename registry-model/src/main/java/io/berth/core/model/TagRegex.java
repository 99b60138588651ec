package io.berth.core.model;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A user's regular expression over tag names (immutability and retention rules, tag filters of the
 * admin API, replication targets), matched against the whole name. RE2 syntax, run by RE2/J: time
 * linear in the name, whatever the expression — {@code java.util.regex} backtracks, and
 * {@code (a+)+} against 60 {@code a}s and a {@code -} never ends. RE2 has no look-around and no
 * back-references; expressions using them are refused when they are given.
 *
 * <p>Linear is not cheap when the compiled program is huge: RE2/J expands counted repetitions, so
 * {@code (a{1000}){1000}} — 15 characters — compiles to a million instructions (94 MB) and each
 * match walks them all; one more level exhausts any heap. So the size the expression compiles to is
 * estimated from its text before it is compiled and bounded by {@link #MAX_SIZE}, and its text by
 * {@link #MAX_LENGTH}.
 */
public final class TagRegex {
    /** The longest expression accepted, in characters (a tag is at most 128). */
    public static final int MAX_LENGTH = 1024;
    /**
     * The largest program accepted, in RE2 instructions as {@link #estimatedSize} counts them (about
     * one per character, class or operator, times counted repetitions): a match costs at most this
     * times the tag's length, a few ms for a 128-character tag at the limit (docs/admin-api.md).
     */
    public static final int MAX_SIZE = 1000;
    /** Rules are evaluated on every tag push: their expressions are compiled once, not each time. */
    private static final int CACHED = 256;

    private static final Map<String, TagRegex> COMPILED = new ConcurrentHashMap<>();

    private final String text;
    private final Pattern pattern;

    private TagRegex(String text, Pattern pattern) {
        this.text = text;
        this.pattern = pattern;
    }

    /**
     * The expression {@code text}.
     *
     * @throws IllegalArgumentException saying why it is refused, phrased to follow the expression
     *                                  (e.g. {@code "is not RE2 syntax: …"})
     */
    public static TagRegex of(String text) {
        TagRegex known = COMPILED.get(text);
        if (known != null) {
            return known;
        }
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("is empty; a regular expression is needed");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(
                    "is " + text.length() + " characters long; at most " + MAX_LENGTH + " are allowed");
        }
        long size = estimatedSize(text);
        if (size > MAX_SIZE) {
            throw new IllegalArgumentException(
                    "would compile to about " + (size >= CAP ? "more than a billion" : String.valueOf(size))
                            + " instructions; at most " + MAX_SIZE + " are allowed (lower the "
                            + "counts of {n,m} repetitions, especially nested ones)");
        }
        Pattern p;
        try {
            p = Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("is not a regular expression in RE2 syntax (no look-around, "
                    + "back-references or possessive quantifiers): " + e.getDescription());
        }
        TagRegex r = new TagRegex(text, p);
        if (COMPILED.size() >= CACHED) {
            COMPILED.clear();
        }
        COMPILED.put(text, r);
        return r;
    }

    /**
     * The expression of the request field {@code field}.
     *
     * @throws RegistryException {@link ErrorCode#INVALID_ARGUMENT} naming the field and why
     */
    public static TagRegex argument(String field, String text) {
        try {
            return of(text);
        } catch (IllegalArgumentException e) {
            String shown = text == null ? "" : text.length() > 80 ? text.substring(0, 80) + "…" : text;
            throw new RegistryException(
                    ErrorCode.INVALID_ARGUMENT, field + " '" + shown + "' " + e.getMessage(), Map.of(field, shown));
        }
    }

    /** Whether the whole of {@code tag} matches. */
    public boolean matches(String tag) {
        return pattern.matches(tag);
    }

    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }

    private static final long CAP = 1_000_000_000L;

    /**
     * About how many instructions RE2 compiles {@code re} to: one per literal, class, escape or
     * operator, two per capturing group, and a repeated item {@code {n,m}} counted m times. A loose upper bound
     * of RE2/J's own count for the expressions it accepts (it refuses the rest itself); saturates at a
     * billion, so that nesting cannot overflow it.
     */
    static long estimatedSize(String re) {
        Estimate e = new Estimate(re);
        long total = 0;
        while (e.i < re.length()) {
            total = add(total, e.alternation());
            e.i++; // a stray ')' (RE2 refuses it) must not stop the count
        }
        return total;
    }

    private static final class Estimate {
        final String re;
        int i;
        /** Literals of a {@code \Q…\E} before its last, which alone a following quantifier repeats. */
        long quotedBeforeLast;

        Estimate(String re) {
            this.re = re;
        }

        /** Branches separated by '|', up to a ')' or the end. */
        long alternation() {
            long total = 0;
            long branch = 0;
            while (i < re.length() && re.charAt(i) != ')') {
                if (re.charAt(i) == '|') {
                    total = add(add(total, branch), 1);
                    branch = 0;
                    i++;
                } else {
                    long atom = atom();
                    long before = quotedBeforeLast;
                    quotedBeforeLast = 0;
                    branch = add(add(branch, before), repeated(atom));
                }
            }
            return add(total, branch);
        }

        long atom() {
            char c = re.charAt(i++);
            if (c == '(') {
                long capture = 2;
                if (i < re.length() && re.charAt(i) == '?') {
                    int j = i + 1;
                    if (j < re.length() && (re.charAt(j) == '<' || re.charAt(j) == 'P')) {
                        int close = re.indexOf('>', j);
                        i = close < 0 ? re.length() : close + 1; // a named group
                    } else {
                        while (j < re.length() && re.charAt(j) != ':' && re.charAt(j) != ')') {
                            j++;
                        }
                        i = Math.min(j + 1, re.length());
                        if (j < re.length() && re.charAt(j) == ')') {
                            return 0; // flags only: (?i)
                        }
                        capture = 0; // (?:…) compiles to its content
                    }
                }
                long inner = alternation();
                if (i < re.length()) {
                    i++; // ')'
                }
                return add(inner, capture);
            }
            if (c == '[') {
                skipClass();
                quotedBeforeLast = 0; // a class is one instruction whatever it quotes
                return 1;
            }
            if (c == '\\') {
                return escape();
            }
            return 1;
        }

        /** After a backslash: how many instructions the escape stands for. */
        long escape() {
            if (i >= re.length()) {
                return 1;
            }
            char e = re.charAt(i++);
            if (e == 'Q') {
                int end = re.indexOf("\\E", i);
                int stop = end < 0 ? re.length() : end;
                long n = stop - i;
                i = end < 0 ? re.length() : end + 2;
                // RE2 reads \Qab\E{2} as a, then b{2}: a quantifier repeats the last literal only
                quotedBeforeLast = Math.max(n - 1, 0);
                return 1;
            }
            if ((e == 'p' || e == 'P' || e == 'x') && i < re.length() && re.charAt(i) == '{') {
                int close = re.indexOf('}', i);
                i = close < 0 ? re.length() : close + 1;
            } else if (e == 'p' || e == 'P') {
                i = Math.min(i + 1, re.length());
            } else if (e == 'x') {
                i = Math.min(i + 2, re.length());
            }
            return 1;
        }

        /** After '[': to just past the ']' that closes the class. */
        void skipClass() {
            if (i < re.length() && re.charAt(i) == '^') {
                i++;
            }
            if (i < re.length() && re.charAt(i) == ']') {
                i++; // a ']' first is a literal
            }
            while (i < re.length() && re.charAt(i) != ']') {
                if (re.charAt(i) == '\\') {
                    i++;
                    escape();
                } else if (re.startsWith("[:", i)) {
                    int close = re.indexOf(":]", i + 2);
                    i = close < 0 ? i + 1 : close + 2;
                } else {
                    i++;
                }
            }
            i = Math.min(i + 1, re.length());
        }

        /** The size of an item with the repetition operators that follow it. */
        long repeated(long size) {
            while (i < re.length()) {
                char c = re.charAt(i);
                if (c == '*' || c == '+' || c == '?') {
                    i++;
                    // a loop over what may match empty takes RE2/J one more instruction
                    size = add(size, c == '?' ? 1 : 2);
                } else if (c == '{') {
                    long[] r = repetition(i);
                    if (r == null) {
                        return size; // a literal '{', read as the next atom
                    }
                    i = (int) r[2];
                    // an item repeated {0} still compiles to one instruction
                    size = Math.max(
                            1, r[1] < 0 ? add(mul(size, r[0]), add(size, 2)) : add(mul(size, r[1]), r[1] - r[0]));
                } else {
                    return size;
                }
                if (i < re.length() && re.charAt(i) == '?') {
                    i++; // lazy
                }
            }
            return size;
        }

        /** {min, max (-1: unbounded), index past '}'} of {@code {n}}, {@code {n,}} or {@code {n,m}} at {@code at}. */
        long[] repetition(int at) {
            int j = at + 1;
            int digits = j;
            long min = 0;
            while (j < re.length() && re.charAt(j) >= '0' && re.charAt(j) <= '9') {
                min = Math.min(min * 10 + (re.charAt(j++) - '0'), CAP);
            }
            if (j == digits) {
                return null;
            }
            long max = min;
            if (j < re.length() && re.charAt(j) == ',') {
                digits = ++j;
                long m = 0;
                while (j < re.length() && re.charAt(j) >= '0' && re.charAt(j) <= '9') {
                    m = Math.min(m * 10 + (re.charAt(j++) - '0'), CAP);
                }
                max = j == digits ? -1 : m;
            }
            if (j >= re.length() || re.charAt(j) != '}') {
                return null;
            }
            return new long[] {min, max, j + 1};
        }
    }

    private static long add(long a, long b) {
        return Math.min(a + b, CAP);
    }

    private static long mul(long a, long b) {
        return a == 0 || b == 0 ? 0 : a > CAP / b ? CAP : Math.min(a * b, CAP);
    }
}
