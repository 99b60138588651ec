package io.berth.core.gc;

import io.berth.core.blob.BlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.BlobRecord;
import io.berth.core.metadata.GcRecords;
import io.berth.core.metadata.GcRunRecord;
import io.berth.core.metadata.ManifestKey;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.registry.Manifests;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Online garbage collection: runs while pushes and pulls go on, never needs read-only mode.
 *
 * <p>The protocol (docs/admin-api.md proves it): a run fixes {@code cutoff = start − grace}.
 * <b>Mark</b>: it lists blobs that no manifest of any repository references, recorded before the
 * cutoff and linked to no repository since (and, with {@code untagged}, manifests that nothing
 * reaches, pushed before the cutoff). <b>Re-check and claim</b>: each candidate is claimed in one
 * metadata transaction that checks again — no manifest references it, nothing linked it since the
 * cutoff, and no upload has reserved it — and removes its records; only then is its file deleted,
 * and the claim ended. An upload reserves its digest (a row) before it places the file and releases
 * it in the transaction that records the blob, and waits while a claim exists; so a file a
 * concurrent push places is never deleted. A file with no record at all is deleted only when it is
 * older than the cutoff and, again, claimed first.
 *
 * <p>Progress (phase, cursor, counts) is written to {@code gc_runs}; a run the process did not
 * finish is resumed by {@link #resumeInterrupted()} from where it was.
 */
public final class GarbageCollector implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GarbageCollector.class.getName());
    public static final Duration DEFAULT_GRACE = Duration.ofHours(1);
    /** Dry runs list at most this many items (counts and bytes cover everything). */
    public static final int MAX_LISTED = 10_000;

    private static final int BATCH = 500;
    private static final String[] PHASES = {"manifests", "blobs", "orphans", "done"};

    private final Manifests manifests;
    private final MetadataStore metadata;
    private final BlobStore blobs;
    private final Clock clock;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "berth-gc");
        t.setDaemon(true);
        return t;
    });
    private final List<Consumer<Status>> listeners = new CopyOnWriteArrayList<>();
    private volatile Status current;
    private volatile boolean stopping;

    /** Collects over these stores; {@code manifests} deletes through the engine (events, counts). */
    public GarbageCollector(MetadataStore metadata, BlobStore blobs, Manifests manifests, Clock clock) {
        this.metadata = metadata;
        this.blobs = blobs;
        this.manifests = manifests;
        this.clock = clock;
    }

    /** What to collect. */
    public record Options(boolean dryRun, Duration grace, boolean deleteUntagged) {
        public Options {
            if (grace == null) {
                grace = DEFAULT_GRACE;
            }
            if (grace.isNegative() || grace.compareTo(Duration.ofDays(365)) > 0) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "grace " + grace + " must be from 0 to 365 days",
                        "grace",
                        grace.toString());
            }
        }
    }

    public enum State {
        RUNNING,
        SUCCEEDED,
        FAILED
    }

    /** A run: what it does, where it is, what it did; for a dry run also what it would delete. */
    public record Status(
            String id,
            State state,
            boolean dryRun,
            boolean deleteUntagged,
            Duration grace,
            long cutoffAt,
            String phase,
            long startedAt,
            long updatedAt,
            Optional<Long> finishedAt,
            long manifestsDeleted,
            long blobsExamined,
            long blobsDeleted,
            long bytesFreed,
            List<String> items,
            String error) {
        public boolean finished() {
            return state != State.RUNNING;
        }
    }

    /** Mutable progress of the run in this process. */
    private final class Run {
        final String id;
        final Options options;
        final long startedAt;
        final long cutoff;
        String phase;
        String cursor;
        long manifestsDeleted;
        long blobsExamined;
        long blobsDeleted;
        long bytesFreed;
        final List<String> items = new ArrayList<>();
        /** A dry run's manifests that the run would delete: what the later phases treat as gone. */
        final Set<ManifestKey> planned = new HashSet<>();

        State state = State.RUNNING;
        String error = "";
        OptionalLong finishedAt = OptionalLong.empty();

        Run(String id, Options options, long startedAt, long cutoff, String phase, String cursor) {
            this.id = id;
            this.options = options;
            this.startedAt = startedAt;
            this.cutoff = cutoff;
            this.phase = phase;
            this.cursor = cursor;
        }

        void listed(String item) {
            if (options.dryRun() && items.size() < MAX_LISTED) {
                items.add(item);
            }
        }

        Status status() {
            return new Status(
                    id,
                    state,
                    options.dryRun(),
                    options.deleteUntagged(),
                    options.grace(),
                    cutoff,
                    phase,
                    startedAt,
                    clock.millis(),
                    finishedAt.isPresent() ? Optional.of(finishedAt.getAsLong()) : Optional.empty(),
                    manifestsDeleted,
                    blobsExamined,
                    blobsDeleted,
                    bytesFreed,
                    List.copyOf(items),
                    error);
        }

        /** Records progress (never for dry runs: they change nothing, and rerunning one is cheap). */
        void save() {
            Status s = status();
            long leaseUntil = state == State.RUNNING ? clock.millis() + LEASE_MILLIS : 0; // 0: released at the end
            if (options.dryRun()) {
                metadata.inTransaction(tx -> tx.leases().acquire(LEASE, owner, leaseUntil));
            } else {
                metadata.inTransaction(tx -> {
                    tx.leases().acquire(LEASE, owner, leaseUntil);
                    tx.gc()
                            .putRun(new GcRunRecord(
                                    id,
                                    state.name(),
                                    false,
                                    options.deleteUntagged(),
                                    options.grace().toMillis(),
                                    cutoff,
                                    phase,
                                    cursor == null ? "" : cursor,
                                    startedAt,
                                    clock.millis(),
                                    finishedAt,
                                    manifestsDeleted,
                                    blobsExamined,
                                    blobsDeleted,
                                    bytesFreed,
                                    error));
                    return null;
                });
            }
            current = s; // after the record: whoever sees the run finished finds it finished in the record too
            listeners.forEach(l -> l.accept(s));
        }
    }

    /** The database lease that lets one instance of several collect at a time, renewed as the run saves. */
    static final String LEASE = "gc";

    static final long LEASE_MILLIS = Duration.ofMinutes(2).toMillis();
    private final String owner = UUID.randomUUID().toString();

    private boolean takeLease() {
        return metadata.<Boolean>inTransaction(tx -> tx.leases().acquire(LEASE, owner, clock.millis() + LEASE_MILLIS));
    }

    private void requireLease() {
        if (!takeLease()) {
            throw RegistryException.of(
                    ErrorCode.FAILED_PRECONDITION, "a garbage collection runs on another instance", "lease", LEASE);
        }
    }

    /** Starts a run in the background; refused while one runs (here or on another instance). */
    public synchronized Status start(Options options) {
        if (current != null && !current.finished()) {
            throw RegistryException.of(
                    ErrorCode.FAILED_PRECONDITION,
                    "garbage collection run " + current.id() + " is still running (phase " + current.phase() + ")",
                    "run",
                    current.id());
        }
        requireLease();
        long now = clock.millis();
        Run run = new Run(
                UUID.randomUUID().toString(),
                options,
                now,
                now - options.grace().toMillis(),
                PHASES[0],
                "");
        run.save();
        executor.execute(() -> execute(run));
        return current;
    }

    /** Runs to the end in the calling thread (tests, benchmarks). */
    public Status runNow(Options options) {
        long now = clock.millis();
        Run run;
        synchronized (this) {
            if (current != null && !current.finished()) {
                throw RegistryException.of(
                        ErrorCode.FAILED_PRECONDITION,
                        "garbage collection run " + current.id() + " is still running",
                        "run",
                        current.id());
            }
            requireLease();
            run = new Run(
                    UUID.randomUUID().toString(),
                    options,
                    now,
                    now - options.grace().toMillis(),
                    PHASES[0],
                    "");
            run.save();
        }
        execute(run);
        return current;
    }

    /** Resumes a run the process stopped in the middle of (at start-up); empty when there is none. */
    public synchronized Optional<Status> resumeInterrupted() {
        if (current != null && !current.finished()) {
            return Optional.empty(); // running in this process
        }
        Optional<GcRunRecord> last = metadata.gc().latestRun();
        if (last.isEmpty() || !last.get().state().equals(State.RUNNING.name())) {
            return Optional.empty();
        }
        if (!takeLease()) {
            return Optional.empty(); // another instance holds the lease: it runs, or resumes, the collection
        }
        GcRunRecord r = last.get();
        Run run = new Run(
                r.id(),
                new Options(false, Duration.ofMillis(r.graceMillis()), r.deleteUntagged()),
                r.startedAt(),
                r.cutoffAt(),
                r.phase(),
                r.cursor());
        run.manifestsDeleted = r.manifestsDeleted();
        run.blobsExamined = r.blobsExamined();
        run.blobsDeleted = r.blobsDeleted();
        run.bytesFreed = r.bytesFreed();
        LOG.log(
                System.Logger.Level.INFO,
                "garbage collection run " + r.id() + " resumes in phase " + r.phase()
                        + (r.cursor().isEmpty() ? "" : " after " + r.cursor()));
        run.save();
        executor.execute(() -> execute(run));
        return Optional.of(current);
    }

    /** The run in this process, else the last one recorded. */
    public Status status() {
        Status s = current;
        if (s != null) {
            return s;
        }
        return metadata.gc()
                .latestRun()
                .map(this::fromRecord)
                .orElseThrow(
                        () -> RegistryException.of(ErrorCode.NOT_FOUND, "garbage collection has never run", "run", ""));
    }

    private Status fromRecord(GcRunRecord r) {
        return new Status(
                r.id(),
                State.valueOf(r.state()),
                r.dryRun(),
                r.deleteUntagged(),
                Duration.ofMillis(r.graceMillis()),
                r.cutoffAt(),
                r.phase(),
                r.startedAt(),
                r.updatedAt(),
                r.finishedAt().isPresent() ? Optional.of(r.finishedAt().getAsLong()) : Optional.empty(),
                r.manifestsDeleted(),
                r.blobsExamined(),
                r.blobsDeleted(),
                r.bytesFreed(),
                List.of(),
                r.error());
    }

    /** Calls {@code listener} with every progress update until it is removed. */
    public Runnable subscribe(Consumer<Status> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private void execute(Run run) {
        try {
            finishClaims(run);
            int from = phaseIndex(run.phase);
            for (int i = from; i < PHASES.length - 1 && !stopping; i++) {
                if (i != from) {
                    run.phase = PHASES[i];
                    run.cursor = "";
                    run.save();
                }
                switch (PHASES[i]) {
                    case "manifests" -> manifests(run);
                    case "blobs" -> blobs(run);
                    default -> orphans(run);
                }
            }
            if (stopping) {
                // stays RUNNING in the record, resumed at the next start (here or on another instance)
                metadata.inTransaction(tx -> tx.leases().acquire(LEASE, owner, 0));
                return;
            }
            run.phase = PHASES[PHASES.length - 1];
            run.state = State.SUCCEEDED;
        } catch (RuntimeException | IOException e) {
            run.state = State.FAILED;
            run.error = e.getMessage() == null ? e.toString() : e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "garbage collection run " + run.id + " failed: " + run.error);
        }
        run.finishedAt = OptionalLong.of(clock.millis());
        run.save();
        LOG.log(
                System.Logger.Level.INFO,
                "garbage collection run " + run.id + (run.options.dryRun() ? " (dry run)" : "")
                        + " " + run.state.name().toLowerCase() + ": " + run.manifestsDeleted + " manifests and "
                        + run.blobsDeleted + " blobs (" + run.bytesFreed + " bytes) "
                        + (run.options.dryRun() ? "would be deleted" : "deleted") + ", " + run.blobsExamined
                        + " blobs examined");
    }

    private static int phaseIndex(String phase) {
        for (int i = 0; i < PHASES.length; i++) {
            if (PHASES[i].equals(phase)) {
                return i;
            }
        }
        return 0;
    }

    /** Deletions a stopped run claimed but did not finish: delete their files, end the claims. */
    private void finishClaims(Run run) throws IOException {
        if (run.options.dryRun()) {
            return;
        }
        metadata.inTransaction(
                tx -> tx.gc().releaseBefore(clock.millis() - Duration.ofHours(1).toMillis()));
        for (Digest d : metadata.gc().deletions()) {
            if (metadata.blobs().size(d).isEmpty()) {
                blobs.delete(d);
            }
            metadata.inTransaction(tx -> {
                tx.gc().endDeletion(d);
                return null;
            });
        }
    }

    /** Untagged manifests nothing reaches, pushed before the cutoff; again until a pass deletes none. */
    private void manifests(Run run) {
        if (!run.options.deleteUntagged()) {
            return;
        }
        if (run.options.dryRun()) {
            planManifests(run);
            return;
        }
        Caller caller = Caller.job(Caller.GC, "gc " + run.id);
        boolean deletedInPass = true;
        while (deletedInPass && !stopping) {
            deletedInPass = false;
            while (!stopping) {
                List<ManifestKey> batch =
                        metadata.gc().unreachableManifests(run.cursor.isEmpty() ? null : run.cursor, run.cutoff, BATCH);
                for (ManifestKey m : batch) {
                    if (manifests.deleteIfUnkept(caller, m.repository(), m.digest(), Set.of(), run.cutoff)
                            == Manifests.Removal.DELETED) {
                        run.manifestsDeleted++;
                        deletedInPass = true;
                    }
                    run.cursor = m.repository() + "@" + m.digest();
                }
                run.save();
                if (batch.size() < BATCH) {
                    break;
                }
            }
            run.cursor = "";
        }
    }

    /**
     * A dry run's manifest phase, which deletes nothing: the unreachable manifests, then — as the run's
     * later passes find them once their index or subject is gone — the children and referrers that only
     * planned manifests keep, each checked as {@link Manifests#deleteIfUnkept} checks it.
     */
    private void planManifests(Run run) {
        ArrayDeque<ManifestKey> gone = new ArrayDeque<>();
        String cursor = null;
        while (!stopping) {
            List<ManifestKey> batch = metadata.gc().unreachableManifests(cursor, run.cutoff, BATCH);
            for (ManifestKey m : batch) {
                plan(run, m, gone);
                cursor = m.repository() + "@" + m.digest();
            }
            run.save();
            if (batch.size() < BATCH) {
                break;
            }
        }
        while (!gone.isEmpty() && !stopping) {
            ManifestKey m = gone.poll();
            for (Digest d : metadata.manifests().dependents(m.repository(), m.digest())) {
                ManifestKey dependent = new ManifestKey(m.repository(), d);
                if (!run.planned.contains(dependent) && keptOnlyByPlanned(run, dependent)) {
                    plan(run, dependent, gone);
                }
            }
        }
    }

    private static void plan(Run run, ManifestKey m, ArrayDeque<ManifestKey> gone) {
        if (run.planned.add(m)) {
            run.manifestsDeleted++;
            run.listed("manifest " + m.repository() + "@" + m.digest());
            gone.add(m);
        }
    }

    private boolean keptOnlyByPlanned(Run run, ManifestKey key) {
        Optional<ManifestRecord> m = metadata.manifests().get(key.repository(), key.digest());
        if (m.isEmpty()
                || m.get().pushedAt() >= run.cutoff
                || !metadata.tags().of(key.repository(), key.digest()).isEmpty()) {
            return false;
        }
        for (Digest index : metadata.manifests().indexesListing(key.repository(), key.digest())) {
            if (!run.planned.contains(new ManifestKey(key.repository(), index))) {
                return false;
            }
        }
        Optional<Digest> subject = m.get().subject();
        return subject.isEmpty()
                || !metadata.manifests().exists(key.repository(), subject.get())
                || run.planned.contains(new ManifestKey(key.repository(), subject.get()));
    }

    /**
     * A dry run's blobs that only planned manifests reference, and that the mark would then take: the
     * run finds them unreferenced once it deleted those manifests.
     */
    private void planFreedBlobs(Run run) {
        Set<Digest> freed = new TreeSet<>((a, b) -> a.toString().compareTo(b.toString()));
        for (ManifestKey m : run.planned) {
            freed.addAll(metadata.manifests().blobsOf(m.repository(), m.digest()));
        }
        for (Digest d : freed) {
            if (stopping) {
                return;
            }
            if (!run.planned.containsAll(metadata.manifests().referencingBlobAnywhere(d))) {
                continue;
            }
            Optional<BlobRecord> b = metadata.gc().blobUnlinkedSince(d, run.cutoff);
            if (b.isPresent()) {
                run.blobsExamined++;
                run.blobsDeleted++;
                run.bytesFreed += b.get().size();
                run.listed("blob " + d + " (" + b.get().size() + " bytes)");
            }
        }
    }

    /** Blob records nothing references, recorded and linked before the cutoff. */
    private void blobs(Run run) throws IOException {
        if (run.options.dryRun()) {
            planFreedBlobs(run);
        }
        while (!stopping) {
            List<BlobRecord> batch =
                    metadata.gc().unreferencedBlobs(run.cursor.isEmpty() ? null : run.cursor, run.cutoff, BATCH);
            run.blobsExamined += batch.size();
            if (run.options.dryRun()) {
                for (BlobRecord b : batch) {
                    run.blobsDeleted++;
                    run.bytesFreed += b.size();
                    run.listed("blob " + b.digest() + " (" + b.size() + " bytes)");
                }
            } else {
                Map<Digest, Long> sizes = new LinkedHashMap<>();
                batch.forEach(b -> sizes.put(b.digest(), b.size()));
                for (Digest d : deleteClaimed(run, List.copyOf(sizes.keySet()), run.cutoff)) {
                    run.blobsDeleted++;
                    run.bytesFreed += sizes.get(d);
                }
            }
            if (!batch.isEmpty()) {
                run.cursor = batch.getLast().digest().toString();
            }
            run.save();
            if (batch.size() < BATCH) {
                return;
            }
        }
    }

    /** Files with no record at all (a push that died between placing its file and recording it). */
    private void orphans(Run run) throws IOException {
        // the store's listing streams from the cursor: a bucket of millions of blobs is never held whole
        Map<Digest, Long> candidates = new LinkedHashMap<>();
        int[] examined = {0};
        Digest[] last = {null};
        boolean[] stopped = {false};
        blobs.list(run.cursor == null ? "" : run.cursor, d -> {
            if (stopping) {
                stopped[0] = true;
                return false;
            }
            run.blobsExamined++;
            if (metadata.blobs().size(d).isEmpty()) {
                OptionalLong modified = blobs.modifiedAt(d);
                if (modified.isPresent() && modified.getAsLong() < run.cutoff) {
                    candidates.put(d, blobs.size(d).orElse(0));
                }
            }
            last[0] = d;
            if (++examined[0] == BATCH) {
                orphanBatch(run, candidates);
                run.cursor = d.toString();
                run.save();
                candidates.clear();
                examined[0] = 0;
            }
            return true;
        });
        if (!stopped[0] && examined[0] > 0) {
            orphanBatch(run, candidates);
            run.cursor = last[0].toString();
            run.save();
        }
    }

    private void orphanBatch(Run run, Map<Digest, Long> candidates) throws IOException {
        if (run.options.dryRun()) {
            candidates.forEach((d, size) -> {
                run.blobsDeleted++;
                run.bytesFreed += size;
                run.listed("file " + d + " (no record, " + size + " bytes)");
            });
            return;
        }
        for (Digest d : deleteClaimed(run, List.copyOf(candidates.keySet()), Long.MAX_VALUE)) {
            run.blobsDeleted++;
            run.bytesFreed += candidates.get(d);
        }
    }

    /**
     * Claims what is still eligible (one transaction re-checks each digest), deletes their files, ends
     * the claims (one transaction); returns what was deleted.
     */
    private List<Digest> deleteClaimed(Run run, List<Digest> digests, long unlinkedSince) throws IOException {
        if (digests.isEmpty()) {
            return List.of();
        }
        List<Digest> claimed = metadata.inTransaction(tx -> {
            List<Digest> out = new ArrayList<>();
            for (Digest d : digests) {
                if (tx.gc().claimDeletion(d, run.id, unlinkedSince)) {
                    out.add(d);
                }
            }
            return out;
        });
        for (Digest d : claimed) {
            blobs.delete(d);
        }
        metadata.inTransaction(tx -> {
            claimed.forEach(tx.gc()::endDeletion);
            return null;
        });
        return claimed;
    }

    /** What {@link #collect} deleted. */
    public record Collected(long blobsDeleted, long bytesFreed) {}

    /**
     * Deletes the files of blobs that eviction or a purge of cached content unlinked ({@code reason}
     * names it in the log). Each is claimed as a run claims ({@link GcRecords.Writes#claimDeletion}: no
     * reservation, no manifest reference) and, in the same transaction, only while no repository links
     * it at all — the cache's own link is gone, so any other link is someone else's and keeps it. A
     * deletion this process does not finish is finished by the next run ({@code finishClaims}).
     */
    public Collected collect(String reason, Set<Digest> candidates) throws IOException {
        String run = reason + "-" + UUID.randomUUID();
        List<Digest> all = List.copyOf(candidates);
        long deleted = 0;
        long freed = 0;
        for (int from = 0; from < all.size(); from += BATCH) {
            List<Digest> batch = all.subList(from, Math.min(all.size(), from + BATCH));
            Map<Digest, Long> claimed = metadata.inTransaction(tx -> {
                Map<Digest, Long> out = new LinkedHashMap<>();
                for (Digest d : batch) {
                    OptionalLong size = tx.blobs().size(d);
                    // Long.MAX_VALUE - 1: no age condition; the link check keeps what was linked since
                    if (size.isPresent()
                            && !tx.blobs().linkedAnywhere(d)
                            && tx.gc().claimDeletion(d, run, Long.MAX_VALUE - 1)) {
                        out.put(d, size.getAsLong());
                    }
                }
                return out;
            });
            for (Digest d : claimed.keySet()) {
                blobs.delete(d);
            }
            metadata.inTransaction(tx -> {
                claimed.keySet().forEach(tx.gc()::endDeletion);
                return null;
            });
            deleted += claimed.size();
            freed += claimed.values().stream().mapToLong(Long::longValue).sum();
        }
        if (!all.isEmpty()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    reason + ": " + deleted + " of " + all.size() + " unlinked blobs deleted (" + freed
                            + " bytes); the rest are used elsewhere");
        }
        return new Collected(deleted, freed);
    }

    /** Stops after the current item; a run left unfinished resumes at the next {@link #resumeInterrupted()}. */
    @Override
    public void close() {
        stopping = true;
        executor.shutdown();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
