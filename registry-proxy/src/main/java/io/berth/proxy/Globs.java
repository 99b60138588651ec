package io.berth.proxy;

import java.util.Arrays;
import java.util.List;

/**
 * Whether two repository globs ({@link io.berth.core.model.RepositoryGlob}'s syntax) match a common
 * name: two mirrors must never both claim one. Decided exactly, component by component ({@code **}
 * any number of components) and within a component ({@code *} any characters but '/'), by the usual
 * two-pattern walk: no name is guessed.
 */
final class Globs {
    private Globs() {}

    static boolean overlap(String a, String b) {
        List<String> x = Arrays.asList(a.split("/"));
        List<String> y = Arrays.asList(b.split("/"));
        Boolean[][] memo = new Boolean[x.size() + 1][y.size() + 1];
        return components(x, y, 0, 0, memo);
    }

    private static boolean components(List<String> x, List<String> y, int i, int j, Boolean[][] memo) {
        if (memo[i][j] != null) {
            return memo[i][j];
        }
        boolean r;
        if (i == x.size() && j == y.size()) {
            r = true;
        } else if (i < x.size() && x.get(i).equals("**")) {
            r = components(x, y, i + 1, j, memo) || (j < y.size() && components(x, y, i, j + 1, memo));
        } else if (j < y.size() && y.get(j).equals("**")) {
            r = components(x, y, i, j + 1, memo) || (i < x.size() && components(x, y, i + 1, j, memo));
        } else if (i < x.size() && j < y.size()) {
            r = within(x.get(i), y.get(j)) && components(x, y, i + 1, j + 1, memo);
        } else {
            r = false;
        }
        memo[i][j] = r;
        return r;
    }

    /** Whether two component patterns ('*' any characters) match a common non-empty component. */
    static boolean within(String p, String q) {
        String a = p.replaceAll("\\*+", "*");
        String b = q.replaceAll("\\*+", "*");
        boolean[][] memo = new boolean[a.length() + 1][b.length() + 1];
        boolean[][] seen = new boolean[a.length() + 1][b.length() + 1];
        return chars(a, b, 0, 0, memo, seen);
    }

    private static boolean chars(String a, String b, int i, int j, boolean[][] memo, boolean[][] seen) {
        if (seen[i][j]) {
            return memo[i][j];
        }
        seen[i][j] = true;
        boolean r;
        if (i == a.length() && j == b.length()) {
            r = true;
        } else if (i < a.length() && a.charAt(i) == '*') {
            r = chars(a, b, i + 1, j, memo, seen) || (j < b.length() && chars(a, b, i, j + 1, memo, seen));
        } else if (j < b.length() && b.charAt(j) == '*') {
            r = chars(a, b, i, j + 1, memo, seen) || (i < a.length() && chars(a, b, i + 1, j, memo, seen));
        } else if (i < a.length() && j < b.length()) {
            r = a.charAt(i) == b.charAt(j) && chars(a, b, i + 1, j + 1, memo, seen);
        } else {
            r = false;
        }
        memo[i][j] = r;
        return r;
    }
}
