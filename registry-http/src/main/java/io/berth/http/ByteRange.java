package io.berth.http;

import java.util.Optional;

/**
 * A single {@code Range: bytes=…} request resolved against a blob's size (RFC 9110 §14.1.2).
 * Forms that cannot be parsed, and multi-range requests, are ignored (the whole blob is sent); a
 * range past the end, or whose last byte precedes its first, is not satisfiable (416).
 */
record ByteRange(long start, long end, boolean satisfiable) {

    long length() {
        return end - start + 1;
    }

    static Optional<ByteRange> parse(String header, long size) {
        String v = header.trim();
        // the unit is case-insensitive (RFC 9110 §14.1); anything not of the grammar is ignored
        if (!v.regionMatches(true, 0, "bytes=", 0, 6) || v.indexOf(',') >= 0) {
            return Optional.empty();
        }
        v = v.substring(6).trim();
        int dash = v.indexOf('-');
        if (dash < 0) {
            return Optional.empty();
        }
        try {
            String first = v.substring(0, dash).trim();
            String last = v.substring(dash + 1).trim();
            if (!digits(first) || !digits(last) || (first.isEmpty() && last.isEmpty())) {
                return Optional.empty(); // signs, blanks inside, "-": not a range at all
            }
            if (first.isEmpty()) {
                long suffix = Long.parseLong(last);
                if (suffix <= 0 || size == 0) {
                    return Optional.of(new ByteRange(0, 0, false));
                }
                long start = Math.max(0, size - suffix);
                return Optional.of(new ByteRange(start, size - 1, true));
            }
            long start = Long.parseLong(first);
            long end = last.isEmpty() ? Long.MAX_VALUE : Long.parseLong(last);
            if (start < 0 || end < start) {
                // an inverted range selects nothing: not satisfiable (as the OCI conformance suite expects)
                return Optional.of(new ByteRange(start, start, false));
            }
            if (start >= size) {
                return Optional.of(new ByteRange(start, start, false));
            }
            return Optional.of(new ByteRange(start, Math.min(end, size - 1), true));
        } catch (NumberFormatException e) {
            return Optional.empty(); // more digits than a long holds
        }
    }

    private static boolean digits(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
