package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRange;
import io.berth.core.model.RepositoryGlob;
import io.berth.events.EventType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The events the outbox keeps ({@code events.retention}), for readers without Kafka (the admin API's
 * ListEvents and WatchEvents): in sequence order, which is commit order, so each repository's events
 * come in the order they happened. A reader starts after a sequence number, at a time, at the oldest
 * event kept or at the latest, and reads pages from there; a start (or a position a slow reader
 * reaches) whose events were pruned meanwhile is refused with {@link PrunedException}, never skipped
 * silently.
 */
public final class EventLog {
    /** The most events one page holds. */
    public static final int MAX_PAGE = 1000;
    /** The most rows one read examines, matching or not: a narrow filter costs a bounded amount per page. */
    static final int MAX_SCAN = 10_000;

    private static final int CHUNK = 500;
    private static final String TYPE_PREFIX = "io.berth.";

    private final MetadataStore metadata;
    private final EventRecorder events;
    private final Duration retention;
    private final Clock clock;

    EventLog(MetadataStore metadata, EventRecorder events, Duration retention, Clock clock) {
        this.metadata = metadata;
        this.events = events;
        this.retention = retention;
        this.clock = clock;
    }

    /** Where a reader starts. */
    public sealed interface Start {
        /** At the oldest event kept. */
        record Oldest() implements Start {}

        /** After the event with this sequence number (0: from the first event ever). */
        record After(long sequence) implements Start {}

        /** At the first event recorded at or after this time (epoch millis). */
        record Since(long epochMillis) implements Start {}

        /** After the latest event: only events recorded from now on. */
        record Latest() implements Start {}
    }

    /** Which events a reader wants: a repository glob (null: all) and types (empty: all). */
    public record Filter(RepositoryGlob repositories, Set<String> types) {
        public Filter {
            types = Set.copyOf(types);
        }

        /**
         * A filter given by a user: {@code glob} as {@link RepositoryGlob#of} takes it (empty: every
         * repository), types as CloudEvents types ({@code io.berth.manifest.pushed}) or without their
         * prefix ({@code manifest.pushed}).
         *
         * @throws RegistryException INVALID_ARGUMENT saying what is wrong
         */
        public static Filter of(String glob, List<String> types) {
            RepositoryGlob g = null;
            if (glob != null && !glob.isEmpty()) {
                try {
                    g = RepositoryGlob.of(glob);
                } catch (IllegalArgumentException e) {
                    throw RegistryException.of(ErrorCode.INVALID_ARGUMENT, e.getMessage(), "repositories", glob);
                }
            }
            Set<String> wanted = new LinkedHashSet<>();
            for (String t : types) {
                String full = t.startsWith(TYPE_PREFIX) ? t : TYPE_PREFIX + t;
                if (EventType.of(full).isEmpty()) {
                    throw RegistryException.of(
                            ErrorCode.INVALID_ARGUMENT,
                            "'" + (t.length() > 80 ? t.substring(0, 80) + "…" : t) + "' is not an event type; types: "
                                    + Arrays.stream(EventType.values())
                                            .map(EventType::type)
                                            .collect(Collectors.joining(", ")),
                            "type",
                            t);
                }
                wanted.add(full);
            }
            return new Filter(g, wanted);
        }

        /** Every event. */
        public static Filter all() {
            return new Filter(null, Set.of());
        }

        public boolean matches(OutboxEvent e) {
            return (types.isEmpty() || types.contains(e.type()))
                    && (repositories == null || repositories.matches(e.repository()));
        }
    }

    /**
     * Events read: those matching, and the position reached — the sequence number of the last row
     * examined, matching or not, to read on from. {@code end}: the outbox held nothing more.
     */
    public record Page(List<OutboxEvent> events, long position, boolean end) {}

    /** A start, or a reader's position, whose events were pruned: the reader would miss some. */
    public static final class PrunedException extends RuntimeException {
        private final long oldestSequence;

        PrunedException(String message, long oldestSequence) {
            super(message);
            this.oldestSequence = oldestSequence;
        }

        /** The oldest sequence number still kept (0: none is). */
        public long oldestSequence() {
            return oldestSequence;
        }
    }

    /** Whether changes are recorded as events; when not, there is nothing to read. */
    public boolean enabled() {
        return events.enabled();
    }

    /**
     * The position to read after for {@code start}.
     *
     * @throws RegistryException FAILED_PRECONDITION when no event is recorded
     * @throws PrunedException   when events after the start were pruned
     */
    public long position(Start start) {
        if (!events.enabled()) {
            throw RegistryException.of(
                    ErrorCode.FAILED_PRECONDITION,
                    "no events are recorded: events.record is false and events.kafka.bootstrap-servers is empty");
        }
        OutboxRange range = metadata.outbox().range();
        return switch (start) {
            case Start.Oldest o -> range.oldestSeq() == 0 ? range.lastSeq() : range.oldestSeq() - 1;
            case Start.Latest l -> range.lastSeq();
            case Start.After a -> {
                if (a.sequence() < 0) {
                    throw RegistryException.of(ErrorCode.INVALID_ARGUMENT, "a sequence number is 0 or more");
                }
                if (range.prunedAfter(a.sequence())) {
                    throw pruned("events after sequence " + a.sequence() + " were pruned", range);
                }
                if (a.sequence() > range.lastSeq()) {
                    throw RegistryException.of(
                            ErrorCode.INVALID_ARGUMENT,
                            "sequence " + a.sequence() + " is beyond the last event (" + range.lastSeq()
                                    + "): a position from another registry, or from a metadata database since replaced?");
                }
                yield a.sequence();
            }
            case Start.Since s -> {
                // events recorded within the retention are all kept (pruning takes only older ones); before
                // it, only while nothing at or after that time was pruned: nothing was, or all kept is younger
                boolean beforeRetention = s.epochMillis() < clock.millis() - retention.toMillis();
                if (beforeRetention
                        && range.anyPruned()
                        && (range.oldestSeq() == 0 || s.epochMillis() < range.oldestCreatedAt())) {
                    throw pruned(
                            "events since " + Instant.ofEpochMilli(s.epochMillis()) + " were pruned (events.retention "
                                    + retention.toMillis() / 1000 + " s)",
                            range);
                }
                yield metadata.outbox().firstSince(s.epochMillis()).orElse(range.lastSeq() + 1) - 1;
            }
        };
    }

    private static PrunedException pruned(String what, OutboxRange range) {
        return new PrunedException(
                what + "; "
                        + (range.oldestSeq() == 0
                                ? "none is kept: the next is " + (range.lastSeq() + 1)
                                : "the oldest kept is sequence " + range.oldestSeq() + " of "
                                        + Instant.ofEpochMilli(range.oldestCreatedAt())),
                range.oldestSeq());
    }

    /**
     * Up to {@code limit} (at most {@link #MAX_PAGE}) events after {@code position} that {@code filter}
     * takes, examining at most {@link #MAX_SCAN} rows.
     *
     * @throws PrunedException when events after {@code position} were pruned (a reader fell behind the retention)
     */
    public Page read(long position, Filter filter, int limit) {
        int want = Math.max(1, Math.min(limit, MAX_PAGE));
        List<OutboxEvent> out = new ArrayList<>();
        long at = position;
        int scanned = 0;
        while (out.size() < want && scanned < MAX_SCAN) {
            List<OutboxEvent> rows = metadata.outbox().after(at, CHUNK);
            if (!rows.isEmpty() && rows.get(0).seq() > at + 1) {
                // numbers have no gaps and become visible in order: what lies between was pruned
                throw pruned(
                        "events after sequence " + at + " were pruned",
                        metadata.outbox().range());
            }
            for (OutboxEvent e : rows) {
                scanned++;
                at = e.seq();
                if (filter.matches(e)) {
                    out.add(e);
                    if (out.size() == want) {
                        return new Page(out, at, false);
                    }
                }
            }
            if (rows.size() < CHUNK) {
                if (rows.isEmpty()
                        && position == at
                        && metadata.outbox().range().prunedAfter(at)) {
                    throw pruned(
                            "events after sequence " + at + " were pruned",
                            metadata.outbox().range());
                }
                return new Page(out, at, true);
            }
        }
        return new Page(out, at, false);
    }
}
