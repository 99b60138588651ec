package io.berth.core.metadata;

import java.util.List;
import java.util.Optional;

/** Robot accounts. */
public interface RobotRecords {

    /** Robot accounts, by name. */
    List<RobotRecord> all();

    Optional<RobotRecord> get(String name);

    /** The changes, inside a {@link MetadataTransaction}. */
    interface Writes extends RobotRecords {

        /** Stores a new robot account; false when one of that name exists. */
        boolean insert(RobotRecord robot);

        /** Removes a robot account; false when there was none. */
        boolean delete(String name);
    }
}
