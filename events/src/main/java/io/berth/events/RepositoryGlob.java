package io.berth.events;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A repository name pattern as operators write them in Berth's configuration: {@code team-a/**}
 * (everything under team-a), {@code team-a/*} (one level), {@code library/ubuntu} (exactly). A
 * {@code *} matches within one path component, {@code **} across components.
 */
public final class RepositoryGlob {
    private final String glob;
    private final Pattern pattern;

    private RepositoryGlob(String glob) {
        this.glob = glob;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                re.append(".*");
                i++;
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                    // "a/**/b" also matches "a/b"
                    re.append("/?");
                    i++;
                }
            } else if (c == '*') {
                re.append("[^/]*");
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        this.pattern = Pattern.compile(re.toString());
    }

    public static RepositoryGlob of(String glob) {
        return new RepositoryGlob(glob);
    }

    public boolean matches(String repository) {
        return pattern.matcher(repository).matches();
    }

    /** Whether any of {@code globs} matches; an empty list matches everything. */
    public static boolean anyMatches(List<RepositoryGlob> globs, String repository) {
        return globs.isEmpty() || globs.stream().anyMatch(g -> g.matches(repository));
    }

    @Override
    public String toString() {
        return glob;
    }
}
