package io.berth.core.model;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A digest as a person types it: whole, or its first hex digits as the admin tables print them
 * ({@code sha256:0123456789ab}), with or without the algorithm. At least {@link #MIN_HEX} digits, so
 * that a prefix names one manifest of a repository in practice; resolving it is the repository's
 * business ({@code Manifests.resolve}).
 */
public record DigestPrefix(Optional<DigestAlgorithm> algorithm, String hex) {
    public static final int MIN_HEX = 6;

    public DigestPrefix {
        if (algorithm == null
                || hex == null
                || hex.length() < MIN_HEX
                || !Digest.isLowerHex(hex)
                || hex.length()
                        > algorithm.map(DigestAlgorithm::hexLength).orElse(DigestAlgorithm.SHA512.hexLength())) {
            throw invalid(
                    algorithm == null || algorithm.isEmpty()
                            ? String.valueOf(hex)
                            : algorithm.get().prefix() + ":" + hex);
        }
    }

    /** {@code sha256:01ab…}, {@code 01ab…} (either algorithm), upper or lower case. */
    public static DigestPrefix parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        if (colon < 0) {
            return new DigestPrefix(Optional.empty(), t);
        }
        Optional<DigestAlgorithm> algorithm = DigestAlgorithm.fromPrefix(t.substring(0, colon));
        if (algorithm.isEmpty()) {
            throw invalid(t);
        }
        return new DigestPrefix(algorithm, t.substring(colon + 1));
    }

    /** The whole digest, when this is one. */
    public Optional<Digest> whole() {
        return algorithm.filter(a -> a.hexLength() == hex.length()).map(a -> new Digest(a, hex));
    }

    /** The {@code algorithm:hex} beginnings a matching digest has (one per algorithm when none was given). */
    public List<String> beginnings() {
        return algorithm
                .map(a -> List.of(a.prefix() + ":" + hex))
                .orElseGet(() -> Arrays.stream(DigestAlgorithm.values())
                        .filter(a -> hex.length() <= a.hexLength())
                        .map(a -> a.prefix() + ":" + hex)
                        .toList());
    }

    @Override
    public String toString() {
        return algorithm.map(a -> a.prefix() + ":").orElse("") + hex;
    }

    private static RegistryException invalid(String text) {
        String shown = Digest.abbreviate(text);
        return new RegistryException(
                ErrorCode.DIGEST_INVALID,
                "invalid digest '" + shown + "': give it whole"
                        + " (sha256:<64 hex digits>) or its first " + MIN_HEX
                        + " or more hex digits, as the tables print it"
                        + " (sha256:0123456789ab)",
                Map.of("digest", shown));
    }
}
