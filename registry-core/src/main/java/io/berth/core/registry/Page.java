package io.berth.core.registry;

import java.util.List;

/** One page of a lexically sorted listing; {@code more} when entries remain after it. */
public record Page(List<String> entries, boolean more) {
    public Page {
        entries = List.copyOf(entries);
    }

    public String last() {
        return entries.isEmpty() ? null : entries.get(entries.size() - 1);
    }
}
