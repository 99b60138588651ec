package io.berth.core.registry;

import java.util.List;

/**
 * One page of a lexically sorted listing; {@code more} when entries may remain after it, and then
 * {@code next}: where the next page starts (after it). That is the last entry, except for a catalog
 * scan that stopped at its limit, which continues after the last name it examined.
 */
public record Page(List<String> entries, boolean more, String next) {
    public Page {
        entries = List.copyOf(entries);
    }

    /** A page that continues after its last entry. */
    public Page(List<String> entries, boolean more) {
        this(entries, more, entries.isEmpty() ? null : entries.get(entries.size() - 1));
    }

    public String last() {
        return entries.isEmpty() ? null : entries.get(entries.size() - 1);
    }
}
