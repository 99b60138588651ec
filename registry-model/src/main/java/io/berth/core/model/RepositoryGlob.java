package io.berth.core.model;

import java.util.List;

/**
 * A repository name pattern as operators write them in Berth's configuration and rules:
 * {@code library/ubuntu} (exactly that repository), {@code team-a/*} (one level below
 * {@code team-a}: {@code *} matches within one path component, never a {@code /}),
 * {@code team-a/**} (everything below {@code team-a}, at any depth, not {@code team-a} itself),
 * {@code **}/{@code app} (every repository whose last component is {@code app}: {@code app},
 * {@code x/app}, {@code x/y/app}, never {@code webapp} or {@code x/webapp}), {@code a/**}/{@code b}
 * ({@code a/b}, {@code a/x/b}, …). {@code **} stands for whole components only; within a
 * component it is a plain {@code *}. Matching is {@link Glob}'s: linear, no backtracking.
 *
 * <p>{@link #of} is for text a user gives now (configuration files, the admin API): it refuses what
 * can only be a mistake — characters no repository name holds ({@code ?} included, so that no glob
 * quietly matches the name {@code *} the {@code admin} action is checked on), empty components,
 * more than {@link Glob#MAX_LENGTH} characters. {@link #stored} reads globs accepted earlier.
 */
public final class RepositoryGlob {
    private final Glob glob;

    private RepositoryGlob(Glob glob) {
        this.glob = glob;
    }

    /**
     * A glob given by a user.
     *
     * @throws IllegalArgumentException saying what is wrong with it (to follow the glob, e.g.
     *                                  {@code "'team-a//x' has an empty component"})
     */
    public static RepositoryGlob of(String glob) {
        if (glob == null || glob.isEmpty()) {
            throw new IllegalArgumentException("an empty repository glob matches nothing (\"**\" is every repository)");
        }
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (!(c >= 'a' && c <= 'z'
                    || c >= '0' && c <= '9'
                    || c == '.'
                    || c == '_'
                    || c == '-'
                    || c == '/'
                    || c == '*')) {
                throw new IllegalArgumentException("'" + abbreviate(glob) + "' is not a repository glob: '" + c
                        + "' is in no repository name (lower-case letters, digits, '.', '_', '-' in components "
                        + "separated by '/'; '*' within a component, '**' for any number of components)");
            }
        }
        if (Glob.components(glob).contains("")) {
            throw new IllegalArgumentException("'" + abbreviate(glob) + "' is not a repository glob: it has an "
                    + "empty component (a leading, trailing or doubled '/')");
        }
        try {
            return new RepositoryGlob(Glob.of(glob));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("repository glob '" + abbreviate(glob) + "' " + e.getMessage());
        }
    }

    /**
     * A glob stored when an earlier version accepted it (robot grants, immutability rules, retention
     * policies): never refused, so that a stored row cannot break the requests it applies to; it
     * matches with today's meaning.
     */
    public static RepositoryGlob stored(String glob) {
        return new RepositoryGlob(Glob.unchecked(glob));
    }

    public boolean matches(String repository) {
        return glob.matches(repository);
    }

    /** Whether any of {@code globs} matches; an empty list matches everything. */
    public static boolean anyMatches(List<RepositoryGlob> globs, String repository) {
        return globs.isEmpty() || globs.stream().anyMatch(g -> g.matches(repository));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }

    @Override
    public String toString() {
        return glob.toString();
    }
}
