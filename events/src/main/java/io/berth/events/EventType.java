package io.berth.events;

import java.util.Optional;

/**
 * Every kind of event Berth publishes: the CloudEvents {@code type} and the Distribution
 * notification {@code action} it carries. {@code docs/events.md} shows an example of each.
 */
public enum EventType {
    MANIFEST_PUSHED("io.berth.manifest.pushed", "push"),
    TAG_CREATED("io.berth.tag.created", "push"),
    TAG_MOVED("io.berth.tag.moved", "push"),
    TAG_DELETED("io.berth.tag.deleted", "delete"),
    MANIFEST_DELETED("io.berth.manifest.deleted", "delete"),
    BLOB_MOUNTED("io.berth.blob.mounted", "mount"),
    BLOB_DELETED("io.berth.blob.deleted", "delete"),
    REPOSITORY_DELETED("io.berth.repository.deleted", "delete"),
    MANIFEST_PULLED("io.berth.manifest.pulled", "pull");

    private final String type;
    private final String action;

    EventType(String type, String action) {
        this.type = type;
        this.action = action;
    }

    /** The CloudEvents {@code type}, e.g. {@code io.berth.manifest.pushed}. */
    public String type() {
        return type;
    }

    /** The Distribution notification action: push, pull, mount or delete. */
    public String action() {
        return action;
    }

    public static Optional<EventType> of(String type) {
        for (EventType t : values()) {
            if (t.type.equals(type)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
