package io.berth.core.registry;

import io.berth.core.metadata.MetadataTransaction;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.OutboxRecords;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.events.DistributionEvent;
import io.berth.events.EventCodec;
import io.berth.events.EventType;
import io.berth.events.RegistryEvent;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Writes the event of a change into the outbox, inside the transaction that makes the change: the
 * change and its event commit together or not at all, so no event is lost and none is invented. The
 * relay publishes outbox rows afterwards. Without Kafka the rows are written as published (the
 * admin API's ListEvents and WatchEvents read them; the registry prunes them after
 * {@code events.retention}); with {@code events.record} false as well nothing is written at all.
 */
public final class EventRecorder {
    private final boolean enabled;
    private final boolean publish;
    private final String source;
    private final String instanceId = UUID.randomUUID().toString();
    private final String sourceAddr;
    private final String urlBase;
    private volatile Runnable committed = () -> {};

    EventRecorder(RegistryOptions options) {
        this.enabled = options.eventsEnabled();
        this.publish = options.eventsPublished();
        this.source = options.eventsSource();
        this.sourceAddr = source.replaceFirst("^[a-z]+:", "").replaceFirst("^//", "");
        this.urlBase = options.eventsUrlBase();
    }

    /** Whether changes are recorded as events. */
    public boolean enabled() {
        return enabled;
    }

    /** Whether a relay publishes the events (Kafka is configured). */
    public boolean published() {
        return publish;
    }

    /** Called after a transaction with events committed (the relay wakes up instead of polling). */
    public void onCommitted(Runnable listener) {
        this.committed = listener;
    }

    void manifestPushed(
            MetadataTransaction tx,
            Caller caller,
            RepositoryName repo,
            Digest digest,
            String mediaType,
            long size,
            String tag,
            List<Digest> references) {
        record(
                tx,
                EventType.MANIFEST_PUSHED,
                caller,
                repo,
                tag == null ? repo + "@" + digest : repo + ":" + tag,
                target(caller, repo, mediaType, digest, size, tag, "manifests", references));
    }

    void tagSet(
            MetadataTransaction tx,
            Caller caller,
            RepositoryName repo,
            String tag,
            Digest digest,
            String mediaType,
            long size,
            boolean moved) {
        record(
                tx,
                moved ? EventType.TAG_MOVED : EventType.TAG_CREATED,
                caller,
                repo,
                repo + ":" + tag,
                target(caller, repo, mediaType, digest, size, tag, "manifests", null));
    }

    void tagDeleted(MetadataTransaction tx, Caller caller, RepositoryName repo, String tag, Digest previous) {
        record(
                tx,
                EventType.TAG_DELETED,
                caller,
                repo,
                repo + ":" + tag,
                target(caller, repo, null, previous, null, tag, "manifests", null));
    }

    void manifestDeleted(
            MetadataTransaction tx, Caller caller, RepositoryName repo, Digest digest, String mediaType, Long size) {
        record(
                tx,
                EventType.MANIFEST_DELETED,
                caller,
                repo,
                repo + "@" + digest,
                target(caller, repo, mediaType, digest, size, null, "manifests", null));
    }

    void blobMounted(MetadataTransaction tx, Caller caller, RepositoryName repo, Digest digest, long size) {
        record(
                tx,
                EventType.BLOB_MOUNTED,
                caller,
                repo,
                repo + "@" + digest,
                target(caller, repo, "application/octet-stream", digest, size, null, "blobs", null));
    }

    void blobDeleted(MetadataTransaction tx, Caller caller, RepositoryName repo, Digest digest) {
        record(
                tx,
                EventType.BLOB_DELETED,
                caller,
                repo,
                repo + "@" + digest,
                target(caller, repo, null, digest, null, null, "blobs", null));
    }

    void repositoryDeleted(MetadataTransaction tx, Caller caller, RepositoryName repo) {
        record(
                tx,
                EventType.REPOSITORY_DELETED,
                caller,
                repo,
                repo.value(),
                new DistributionEvent.Target(null, null, null, null, repo.value(), null, null, null));
    }

    /**
     * Pulls are aggregated (one event per repository and manifest per flush): the event is the flush's,
     * and its {@code request.host} is the host the last pull addressed, as a push's events carry the push's.
     */
    void manifestPulled(MetadataTransaction tx, RepositoryName repo, Digest digest, String host) {
        Caller pulls = new Caller("internal", "", host, "pull", "berth", "", Caller.INTERNAL);
        record(
                tx,
                EventType.MANIFEST_PULLED,
                pulls,
                repo,
                repo + "@" + digest,
                target(pulls, repo, null, digest, null, null, "manifests", null));
    }

    private DistributionEvent.Target target(
            Caller caller,
            RepositoryName repo,
            String mediaType,
            Digest digest,
            Long size,
            String tag,
            String kind,
            List<Digest> references) {
        // the URL clients use (http.public-url), never the request's Host header: a consumer may fetch it
        return new DistributionEvent.Target(
                mediaType,
                digest == null ? null : digest.toString(),
                size,
                size,
                repo.value(),
                digest == null ? null : urlBase + "/v2/" + repo + "/" + kind + "/" + digest,
                tag,
                references == null
                        ? null
                        : references.stream().map(Digest::toString).toList());
    }

    private void record(
            MetadataTransaction tx,
            EventType type,
            Caller caller,
            RepositoryName repo,
            String subject,
            DistributionEvent.Target target) {
        if (!enabled) {
            return;
        }
        long repoSeq = tx.nextSequence("repo:" + repo);
        long seq = tx.nextSequence(OutboxRecords.SEQUENCE);
        String id = UUID.randomUUID().toString();
        String time = Instant.ofEpochMilli(tx.now()).toString();
        DistributionEvent data = new DistributionEvent(
                id,
                time,
                type.action(),
                target,
                new DistributionEvent.Request(
                        caller.requestId(),
                        caller.address(),
                        caller.host(),
                        caller.httpMethod(),
                        caller.userAgent(),
                        caller.via(),
                        caller.operation().isEmpty() ? null : caller.operation()),
                new DistributionEvent.Actor(caller.actor()),
                new DistributionEvent.Source(sourceAddr, instanceId));
        RegistryEvent event = new RegistryEvent(
                RegistryEvent.SPEC_VERSION,
                id,
                source,
                type.type(),
                time,
                subject,
                RegistryEvent.CONTENT_TYPE,
                Long.toString(repoSeq),
                repo.value(),
                data);
        tx.outbox()
                .insert(
                        new OutboxEvent(
                                seq,
                                id,
                                repo.value(),
                                repoSeq,
                                type.type(),
                                EventCodec.encodeToString(event),
                                tx.now()),
                        publish);
        tx.afterCommit(() -> committed.run());
    }
}
