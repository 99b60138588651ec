package io.berth.core.model;

/** What follows {@code /manifests/}: a {@link Tag} or a {@link Digest}. */
public sealed interface Reference permits Tag, Digest {

    /** Parses a reference: digest syntax when it holds a colon, tag syntax otherwise. */
    static Reference parse(String text) {
        return Digest.looksLikeDigest(text) ? Digest.parse(text) : new Tag(text);
    }
}
