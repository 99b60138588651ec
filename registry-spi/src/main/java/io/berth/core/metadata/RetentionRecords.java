package io.berth.core.metadata;

import java.util.List;
import java.util.Optional;

/** Retention policies, their last runs, and the plans a dry run stored. */
public interface RetentionRecords {

    List<StoredRetentionPolicy> policies();

    Optional<StoredRetentionPolicy> policy(String name);

    Optional<StoredRetentionPlan> plan(String id);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends RetentionRecords {

        /** Creates or replaces a policy; true when it was created. */
        boolean putPolicy(String name, String spec);

        boolean deletePolicy(String name);

        void recordRun(String name, String summary);

        void insertPlan(StoredRetentionPlan plan);

        /** Deletes plans created before {@code before}. */
        int prunePlans(long before);
    }
}
