package io.berth.core.registry;

import java.util.Objects;

/** Where a proxied repository's blob GET reads from: the stored blob, or a fill still arriving. */
public sealed interface BlobSource {
    /** The blob (digest and size). */
    BlobInfo blob();

    /** How the cache answered ({@code X-Berth-Cache}). */
    CacheOutcome outcome();

    /** Stored and linked: served like any other blob (small-blob cache, sendfile, redirect). */
    record Stored(BlobInfo blob, CacheOutcome outcome) implements BlobSource {
        public Stored {
            Objects.requireNonNull(blob, "blob");
            Objects.requireNonNull(outcome, "outcome");
        }
    }

    /** Being fetched from the upstream: streamed from {@link BlobFill#open} as it arrives. */
    record Filling(BlobFill fill) implements BlobSource {
        public Filling {
            Objects.requireNonNull(fill, "fill");
        }

        @Override
        public BlobInfo blob() {
            return fill.blob();
        }

        @Override
        public CacheOutcome outcome() {
            return CacheOutcome.MISS;
        }
    }
}
