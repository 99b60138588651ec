package io.berth.core.model;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A repository name per the distribution spec grammar
 * {@code [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*}, at most 255
 * characters. The grammar admits neither {@code ..}, leading or doubled slashes, nor any escape, so a
 * valid name can never address anything outside its own place in storage.
 */
public record RepositoryName(String value) implements Comparable<RepositoryName> {
    public static final int MAX_LENGTH = 255;
    private static final Pattern GRAMMAR =
            Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");

    public RepositoryName {
        if (value != null && value.length() > MAX_LENGTH) {
            throw new RegistryException(
                    ErrorCode.NAME_INVALID,
                    "repository name is " + value.length() + " characters long; at most " + MAX_LENGTH + " are allowed",
                    Map.of("name", Digest.abbreviate(value), "length", value.length(), "limit", MAX_LENGTH));
        }
        if (value == null || value.isEmpty() || !GRAMMAR.matcher(value).matches()) {
            throw new RegistryException(
                    ErrorCode.NAME_INVALID,
                    "invalid repository name: lower-case letters and"
                            + " digits in components separated by '/', each matching [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*",
                    Map.of("name", value == null ? "null" : Digest.abbreviate(value)));
        }
    }

    /** Whether {@code value} is a repository name (what {@link #of} takes without refusing). */
    public static boolean isValid(String value) {
        return value != null
                && !value.isEmpty()
                && value.length() <= MAX_LENGTH
                && GRAMMAR.matcher(value).matches();
    }

    public static RepositoryName of(String value) {
        return new RepositoryName(value);
    }

    @Override
    public int compareTo(RepositoryName o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
