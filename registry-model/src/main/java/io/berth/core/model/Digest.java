package io.berth.core.model;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.util.HexFormat;
import java.util.Map;

/**
 * A content digest {@code algorithm:hex}. Only sha256 and sha512 with lower-case hex of the right
 * length can be constructed, so an instance is always safe to use in a path or a query.
 */
public record Digest(DigestAlgorithm algorithm, String hex) implements Reference {

    public Digest {
        if (algorithm == null || hex == null || hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
            throw invalid(algorithm == null ? String.valueOf(hex) : algorithm.prefix() + ":" + hex);
        }
    }

    /** Parses {@code algorithm:hex}; anything else is {@link ErrorCode#DIGEST_INVALID}. */
    public static Digest parse(String text) {
        if (text == null) {
            throw invalid("null");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw invalid(text);
        }
        DigestAlgorithm algorithm = DigestAlgorithm.fromPrefix(text.substring(0, colon))
                .orElseThrow(() -> new RegistryException(
                        ErrorCode.DIGEST_INVALID,
                        "unsupported digest algorithm in " + abbreviate(text),
                        Map.of("digest", abbreviate(text))));
        String hex = text.substring(colon + 1);
        if (hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
            throw invalid(text);
        }
        return new Digest(algorithm, hex);
    }

    /** True when {@code text} has the syntax of a digest (used to tell digests from tags). */
    public static boolean looksLikeDigest(String text) {
        return text != null && text.indexOf(':') > 0;
    }

    public static Digest of(DigestAlgorithm algorithm, byte[] rawDigest) {
        return new Digest(algorithm, HexFormat.of().formatHex(rawDigest));
    }

    public static Digest compute(DigestAlgorithm algorithm, byte[] content) {
        return of(algorithm, algorithm.newMessageDigest().digest(content));
    }

    @Override
    public String toString() {
        return algorithm.prefix() + ":" + hex;
    }

    /** Whether {@code s} holds only 0-9 and a-f. */
    static boolean isLowerHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static RegistryException invalid(String text) {
        return new RegistryException(
                ErrorCode.DIGEST_INVALID, "invalid digest " + abbreviate(text), Map.of("digest", abbreviate(text)));
    }

    static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
}
