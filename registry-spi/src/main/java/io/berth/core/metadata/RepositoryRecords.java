package io.berth.core.metadata;

import io.berth.core.model.ChangeOrigin;
import io.berth.core.model.RepositoryName;
import java.util.List;

/** Repositories: which exist, their names in order, what each holds. */
public interface RepositoryRecords {

    boolean exists(RepositoryName repository);

    long count();

    /** Up to {@code limit} repository names sorted lexically, starting after {@code after} (null: from the start). */
    List<String> names(String after, int limit);

    /** Up to {@code limit} repository names starting with {@code prefix}, sorted, after {@code after} (null: from the start). */
    List<String> names(String prefix, String after, int limit);

    RepositoryStats stats(RepositoryName repository);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends RepositoryRecords {

        void ensure(RepositoryName repository);

        /**
         * Removes a repository and everything in it: tags (recorded in their history), manifests, their
         * references, blob links. Blobs themselves stay for garbage collection. False when it did not exist.
         */
        boolean delete(RepositoryName repository, ChangeOrigin origin);
    }
}
