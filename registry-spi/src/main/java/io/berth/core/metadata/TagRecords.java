package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import java.util.List;
import java.util.Optional;

/** Tags, what they point at, and their history. */
public interface TagRecords {

    /** The manifest the tag points at, if the tag exists. */
    Optional<Digest> target(RepositoryName repository, String tag);

    /** Up to {@code limit} tags sorted lexically, starting after {@code after} (null: from the start). */
    List<String> names(RepositoryName repository, String after, int limit);

    /** The tags pointing at {@code manifest}, sorted. */
    List<String> of(RepositoryName repository, Digest manifest);

    List<TagChange> history(RepositoryName repository, String tag);

    /** Up to {@code limit} tags with their manifests, sorted by name, after the name {@code after} (null: from the start). */
    List<TagRecord> records(RepositoryName repository, String after, int limit);

    /**
     * Up to {@code limit} tags sorted by push time, newest first, then by name; after the tag pushed at
     * {@code afterPushedAt} named {@code afterName} (null name: from the start).
     */
    List<TagRecord> recordsByPushed(RepositoryName repository, long afterPushedAt, String afterName, int limit);

    Optional<TagRecord> record(RepositoryName repository, String tag);

    long count(RepositoryName repository);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends TagRecords {

        /** Points a tag at a manifest; records the change in tag history. Returns the previous target. */
        Optional<Digest> set(RepositoryName repository, String tag, Digest manifest, ChangeOrigin origin);

        boolean delete(RepositoryName repository, String tag, ChangeOrigin origin);
    }
}
