package io.berth.core.model;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.Map;
import java.util.regex.Pattern;

/** A tag, per the spec: {@code [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}. */
public record Tag(String value) implements Reference {
    private static final Pattern GRAMMAR = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

    public Tag {
        if (value == null || !GRAMMAR.matcher(value).matches()) {
            throw new RegistryException(
                    ErrorCode.MANIFEST_INVALID,
                    "invalid tag: a tag is 1 to 128 characters" + " matching [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}",
                    Map.of("tag", value == null ? "null" : Digest.abbreviate(value)));
        }
    }

    public static boolean isValid(String value) {
        return value != null && GRAMMAR.matcher(value).matches();
    }

    @Override
    public String toString() {
        return value;
    }
}
