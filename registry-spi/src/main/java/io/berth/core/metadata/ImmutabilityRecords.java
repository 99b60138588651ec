package io.berth.core.metadata;

import java.util.List;

/** Tag immutability rules, in the order they were added. */
public interface ImmutabilityRecords {

    List<ImmutabilityRuleRecord> rules();

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends ImmutabilityRecords {

        void insert(ImmutabilityRuleRecord rule);

        boolean delete(String id);
    }
}
