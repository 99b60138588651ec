package io.berth.admin;

import io.berth.core.auth.Robots;
import io.berth.core.config.BerthConfig;
import io.berth.core.config.Durations;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.error.StorageFailures;
import io.berth.core.eviction.CacheEviction;
import io.berth.core.gc.GarbageCollector;
import io.berth.core.maintenance.Maintenance;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.RobotRecord;
import io.berth.core.metadata.TagChange;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestPrefix;
import io.berth.core.model.RepositoryName;
import io.berth.core.proxy.UpstreamStatus;
import io.berth.core.registry.Cancellation;
import io.berth.core.registry.EventLog;
import io.berth.core.registry.Immutability;
import io.berth.core.registry.Registry;
import io.berth.core.registry.Repositories;
import io.berth.core.registry.Tags;
import io.berth.core.retention.Retention;
import io.berth.core.retention.RetentionPolicy;
import io.berth.events.EventCodec;
import io.berth.events.MalformedEventException;
import io.berth.events.RegistryEvent;
import io.berth.proto.admin.v1.AddImmutabilityRuleRequest;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.CreatedRobot;
import io.berth.proto.admin.v1.DeleteImmutabilityRuleRequest;
import io.berth.proto.admin.v1.DeleteImmutabilityRuleResponse;
import io.berth.proto.admin.v1.DeleteRepositoryRequest;
import io.berth.proto.admin.v1.DeleteRepositoryResponse;
import io.berth.proto.admin.v1.DeleteRetentionPolicyRequest;
import io.berth.proto.admin.v1.DeleteRetentionPolicyResponse;
import io.berth.proto.admin.v1.DeleteTagRequest;
import io.berth.proto.admin.v1.DeleteTagResponse;
import io.berth.proto.admin.v1.DryRunRetentionRequest;
import io.berth.proto.admin.v1.Event;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.GetGarbageCollectionStatusRequest;
import io.berth.proto.admin.v1.GetRepositoryRequest;
import io.berth.proto.admin.v1.GetRetentionPolicyRequest;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.GetTagHistoryRequest;
import io.berth.proto.admin.v1.GetTagRequest;
import io.berth.proto.admin.v1.ImmutabilityRule;
import io.berth.proto.admin.v1.ListEventsRequest;
import io.berth.proto.admin.v1.ListEventsResponse;
import io.berth.proto.admin.v1.ListImmutabilityRulesRequest;
import io.berth.proto.admin.v1.ListImmutabilityRulesResponse;
import io.berth.proto.admin.v1.ListManifestsRequest;
import io.berth.proto.admin.v1.ListManifestsResponse;
import io.berth.proto.admin.v1.ListRepositoriesRequest;
import io.berth.proto.admin.v1.ListRepositoriesResponse;
import io.berth.proto.admin.v1.ListRetentionPoliciesRequest;
import io.berth.proto.admin.v1.ListRetentionPoliciesResponse;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.proto.admin.v1.ListRobotsResponse;
import io.berth.proto.admin.v1.ListTagsRequest;
import io.berth.proto.admin.v1.ListTagsResponse;
import io.berth.proto.admin.v1.ListUpstreamsRequest;
import io.berth.proto.admin.v1.ListUpstreamsResponse;
import io.berth.proto.admin.v1.Manifest;
import io.berth.proto.admin.v1.ManifestDeletion;
import io.berth.proto.admin.v1.PurgeCacheRequest;
import io.berth.proto.admin.v1.PurgeCacheResponse;
import io.berth.proto.admin.v1.PutRetentionPolicyRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.Repository;
import io.berth.proto.admin.v1.RestoreTagRequest;
import io.berth.proto.admin.v1.RetentionPlan;
import io.berth.proto.admin.v1.RetentionPolicyInfo;
import io.berth.proto.admin.v1.RetentionRule;
import io.berth.proto.admin.v1.RetentionRunResult;
import io.berth.proto.admin.v1.RevokeRobotRequest;
import io.berth.proto.admin.v1.RevokeRobotResponse;
import io.berth.proto.admin.v1.Robot;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import io.berth.proto.admin.v1.RunRetentionRequest;
import io.berth.proto.admin.v1.ServerInfo;
import io.berth.proto.admin.v1.SetTagRequest;
import io.berth.proto.admin.v1.Tag;
import io.berth.proto.admin.v1.TagDecision;
import io.berth.proto.admin.v1.TagHistory;
import io.berth.proto.admin.v1.TagVersion;
import io.berth.proto.admin.v1.Upstream;
import io.berth.proto.admin.v1.WatchEventsRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** gRPC translation of the admin API onto registry-core; holds no rule of its own. */
public final class RegistryAdminService extends RegistryAdminGrpc.RegistryAdminImplBase {
    private static final System.Logger LOG = System.getLogger(RegistryAdminService.class.getName());

    private final Registry registry;
    private final Maintenance maintenance;
    private final Robots robots;
    private final String version;
    private final long startedAt;
    private final Duration defaultGrace;
    private final EventWatches watches;

    public RegistryAdminService(
            Registry registry,
            Maintenance maintenance,
            Robots robots,
            String version,
            long startedAt,
            Duration defaultGrace) {
        this(registry, maintenance, robots, version, startedAt, defaultGrace, new EventWatches(32));
    }

    RegistryAdminService(
            Registry registry,
            Maintenance maintenance,
            Robots robots,
            String version,
            long startedAt,
            Duration defaultGrace,
            EventWatches watches) {
        this.registry = registry;
        this.maintenance = maintenance;
        this.robots = robots;
        this.version = version;
        this.startedAt = startedAt;
        this.defaultGrace = defaultGrace;
        this.watches = watches;
    }

    private static Caller caller() {
        Caller c = AdminAuth.CALLER.get();
        return c == null ? Caller.job(Caller.ADMIN, "admin") : c;
    }

    /**
     * The call's cancellation: set when the client cancels, goes away or passes its deadline — long
     * scans stop then rather than finish for nobody.
     */
    private static Cancellation cancellation() {
        Context call = Context.current();
        return call::isCancelled;
    }

    /** Runs one unary call: its answer, or its error as a status; never a stack trace to the client. */
    private static <T> void unary(StreamObserver<T> response, Supplier<T> work) {
        try {
            response.onNext(work.get());
            response.onCompleted();
        } catch (RegistryException e) {
            response.onError(AdminErrors.of(e));
        } catch (EventLog.PrunedException e) {
            response.onError(Status.OUT_OF_RANGE.withDescription(e.getMessage()).asRuntimeException());
        } catch (CancellationException e) {
            // nobody reads this answer; the status is for the record
            LOG.log(
                    System.Logger.Level.INFO,
                    "admin call " + caller().method() + " stopped (request " + caller().requestId() + "): "
                            + e.getMessage());
            response.onError(Status.CANCELLED.withDescription(e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            if (StorageFailures.isBusy(e) || StorageFailures.isNoSpace(e)) {
                // transient or the operator's to fix: UNAVAILABLE, so clients retry; not an internal error
                LOG.log(
                        System.Logger.Level.WARNING,
                        "admin call " + caller().method() + " failed (request " + caller().requestId() + "): "
                                + e.getMessage());
                response.onError(AdminErrors.of(StorageFailures.of("the call could not be completed", e)));
                return;
            }
            String id = caller().requestId();
            LOG.log(System.Logger.Level.ERROR, "admin call " + caller().method() + " failed (request " + id + ")", e);
            response.onError(Status.INTERNAL
                    .withDescription("internal error; the server log has it under request id " + id)
                    .asRuntimeException());
        }
    }

    private static RepositoryName repo(String name) {
        return RepositoryName.of(name);
    }

    // ---- server and repositories

    @Override
    public void getServerInfo(GetServerInfoRequest request, StreamObserver<ServerInfo> response) {
        unary(
                response,
                () -> ServerInfo.newBuilder()
                        .setVersion(version)
                        .setStartedAtEpochMillis(startedAt)
                        .setBlobStorage(registry.blobStore().kind())
                        .setMetadataStorage(registry.metadata().kind())
                        .setRepositoryCount(registry.metadata().repositories().count())
                        .build());
    }

    private static Repository repository(Repositories.RepositoryInfo r) {
        var s = r.stats();
        return Repository.newBuilder()
                .setName(r.name().value())
                .setTagCount(s.tags())
                .setManifestCount(s.manifests())
                .setTotalSize(s.totalSize())
                .setUniqueSize(s.uniqueSize())
                .setLastPushEpochMillis(s.lastPushAt().orElse(0))
                .setLastPullEpochMillis(s.lastPullAt().orElse(0))
                .build();
    }

    @Override
    public void listRepositories(ListRepositoriesRequest request, StreamObserver<ListRepositoriesResponse> response) {
        unary(response, () -> {
            var page = registry.repositories().list(request.getPrefix(), request.getPageToken(), request.getPageSize());
            return ListRepositoriesResponse.newBuilder()
                    .addAllRepositories(page.repositories().stream()
                            .map(RegistryAdminService::repository)
                            .toList())
                    .setNextPageToken(page.nextPageToken())
                    .build();
        });
    }

    @Override
    public void getRepository(GetRepositoryRequest request, StreamObserver<Repository> response) {
        unary(response, () -> repository(registry.repositories().get(repo(request.getName()))));
    }

    @Override
    public void deleteRepository(DeleteRepositoryRequest request, StreamObserver<DeleteRepositoryResponse> response) {
        unary(response, () -> {
            registry.repositories().delete(caller(), repo(request.getName()));
            return DeleteRepositoryResponse.getDefaultInstance();
        });
    }

    // ---- pull-through caches

    @Override
    public void listUpstreams(ListUpstreamsRequest request, StreamObserver<ListUpstreamsResponse> response) {
        unary(response, () -> {
            Map<String, Long> cached = registry.proxy().cachedRepositories();
            ListUpstreamsResponse.Builder out = ListUpstreamsResponse.newBuilder();
            for (var u : registry.proxy().upstreams()) { // var: the proto has an Upstream too
                UpstreamStatus s = u.status();
                out.addUpstreams(Upstream.newBuilder()
                        .setName(u.name())
                        .setDescribe(u.describe())
                        .setState(s.state().name().toLowerCase(Locale.ROOT).replace('_', '-'))
                        .setFailingSinceEpochMillis(
                                s.failingSince().map(Instant::toEpochMilli).orElse(0L))
                        .setLastFailure(s.lastFailure().orElse(""))
                        .setRequests(s.requests())
                        .setFailures(s.failures())
                        .setCachedRepositories(cached.getOrDefault(u.name(), 0L)));
            }
            return out.build();
        });
    }

    @Override
    public void purgeCache(PurgeCacheRequest request, StreamObserver<PurgeCacheResponse> response) {
        unary(response, () -> {
            CacheEviction.Outcome o =
                    maintenance.eviction().purge(caller(), repo(request.getRepository()), request.getTag());
            return PurgeCacheResponse.newBuilder()
                    .setTagsRemoved(o.tagsRemoved())
                    .setManifestsRemoved(o.manifestsRemoved())
                    .setBlobsUnlinked(o.blobsUnlinked())
                    .setBlobsDeleted(o.blobsDeleted())
                    .setBytesFreed(o.bytesFreed())
                    .build();
        });
    }

    // ---- tags and manifests

    private static Tag tag(Tags.TagInfo t) {
        return Tag.newBuilder()
                .setRepository(t.repository().value())
                .setName(t.name())
                .setDigest(t.digest().toString())
                .setMediaType(t.mediaType())
                .setSize(t.size())
                .addAllPlatforms(t.platforms())
                .setPushedEpochMillis(t.pushedAt())
                .setLastPulledEpochMillis(t.lastPulledAt().orElse(0))
                .build();
    }

    @Override
    public void listTags(ListTagsRequest request, StreamObserver<ListTagsResponse> response) {
        unary(response, () -> {
            Tags.TagPage page = registry.tags()
                    .list(
                            repo(request.getRepository()),
                            request.getFilter(),
                            request.getFilterKind() == ListTagsRequest.FilterKind.REGEX
                                    ? Tags.FilterKind.REGEX
                                    : Tags.FilterKind.GLOB,
                            request.getOrder() == ListTagsRequest.Order.PUSHED ? Tags.Order.PUSHED : Tags.Order.NAME,
                            request.getPageToken(),
                            request.getPageSize(),
                            cancellation());
            return ListTagsResponse.newBuilder()
                    .addAllTags(
                            page.tags().stream().map(RegistryAdminService::tag).toList())
                    .setNextPageToken(page.nextPageToken())
                    .build();
        });
    }

    @Override
    public void getTag(GetTagRequest request, StreamObserver<Tag> response) {
        unary(response, () -> tag(registry.tags().get(repo(request.getRepository()), request.getTag())));
    }

    @Override
    public void setTag(SetTagRequest request, StreamObserver<Tag> response) {
        unary(response, () -> {
            RepositoryName target = repo(request.getRepository());
            Optional<RepositoryName> from = request.getFromRepository().isEmpty()
                    ? Optional.empty()
                    : Optional.of(repo(request.getFromRepository()));
            // a digest's beginning, as the tables print it, names the one manifest it begins
            Digest digest = registry.manifests().resolve(from.orElse(target), DigestPrefix.parse(request.getDigest()));
            return tag(registry.tags().set(caller(), target, request.getTag(), digest, from));
        });
    }

    @Override
    public void deleteTag(DeleteTagRequest request, StreamObserver<DeleteTagResponse> response) {
        unary(response, () -> {
            registry.tags().delete(caller(), repo(request.getRepository()), request.getTag());
            return DeleteTagResponse.getDefaultInstance();
        });
    }

    @Override
    public void getTagHistory(GetTagHistoryRequest request, StreamObserver<TagHistory> response) {
        unary(response, () -> {
            List<TagChange> h = registry.tags().history(repo(request.getRepository()), request.getTag());
            TagHistory.Builder b = TagHistory.newBuilder()
                    .setRepository(request.getRepository())
                    .setTag(request.getTag());
            for (TagChange c : h) {
                b.addVersions(TagVersion.newBuilder()
                        .setVersion(c.version())
                        .setAction(c.action().name())
                        .setDigest(c.digest().map(Digest::toString).orElse(""))
                        .setPreviousDigest(c.previous().map(Digest::toString).orElse(""))
                        .setChangedEpochMillis(c.changedAt())
                        .setVia(c.origin().via())
                        .setRequestId(c.origin().requestId())
                        .setActor(c.origin().actor()));
            }
            return b.build();
        });
    }

    @Override
    public void restoreTag(RestoreTagRequest request, StreamObserver<Tag> response) {
        unary(response, () -> {
            if (request.getToCase() == RestoreTagRequest.ToCase.TO_NOT_SET) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "say which version to restore: version or " + "at_epoch_millis",
                        "to",
                        "");
            }
            long version = request.getToCase() == RestoreTagRequest.ToCase.VERSION ? request.getVersion() : 0;
            if (request.getToCase() == RestoreTagRequest.ToCase.VERSION && version < 1) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT, "version " + version + " must be 1 or more", "version", version);
            }
            return tag(registry.tags()
                    .restore(
                            caller(),
                            repo(request.getRepository()),
                            request.getTag(),
                            version,
                            request.getAtEpochMillis()));
        });
    }

    @Override
    public void listManifests(ListManifestsRequest request, StreamObserver<ListManifestsResponse> response) {
        unary(response, () -> {
            var page = registry.repositories()
                    .manifests(
                            repo(request.getRepository()),
                            request.getUntaggedOnly(),
                            request.getPageToken(),
                            request.getPageSize());
            ListManifestsResponse.Builder b = ListManifestsResponse.newBuilder().setNextPageToken(page.nextPageToken());
            for (Repositories.ManifestInfo m : page.manifests()) {
                var s = m.manifest();
                b.addManifests(Manifest.newBuilder()
                        .setDigest(s.digest().toString())
                        .setMediaType(s.mediaType())
                        .setArtifactType(s.artifactType() == null ? "" : s.artifactType())
                        .setSubject(s.subject().map(Digest::toString).orElse(""))
                        .setSize(s.size())
                        .addAllTags(m.tags())
                        .setReferrers(m.referrers())
                        .setPushedEpochMillis(s.pushedAt())
                        .setLastPulledEpochMillis(s.lastPulledAt().orElse(0)));
            }
            return b.build();
        });
    }

    // ---- retention

    /** The proto policy as the map a policy file reads into, so that both are checked by the same code. */
    public static Map<String, Object> policyMap(io.berth.proto.admin.v1.RetentionPolicy p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.getName());
        m.put("repositories", p.getRepositoriesList());
        List<Map<String, Object>> rules = new ArrayList<>();
        for (RetentionRule r : p.getRulesList()) {
            rules.add(
                    switch (r.getRuleCase()) {
                        case KEEP_LAST_PUSHED -> Map.of("keep-last-pushed", r.getKeepLastPushed());
                        case KEEP_LAST_PULLED -> Map.of("keep-last-pulled", r.getKeepLastPulled());
                        case KEEP_PUSHED_WITHIN -> Map.of("keep-pushed-within", r.getKeepPushedWithin());
                        case KEEP_PULLED_WITHIN -> Map.of("keep-pulled-within", r.getKeepPulledWithin());
                        case KEEP_TAGS_MATCHING -> Map.of("keep-tags-matching", r.getKeepTagsMatching());
                        case RULE_NOT_SET -> Map.of("(empty rule)", "");
                    });
        }
        m.put("rules", rules);
        if (!p.getExcludeTagsMatching().isEmpty()) {
            m.put("exclude-tags-matching", p.getExcludeTagsMatching());
        }
        if (!p.getUntagged().isEmpty()) {
            m.put("untagged", p.getUntagged());
        }
        if (!p.getReferrers().isEmpty()) {
            m.put("referrers", p.getReferrers());
        }
        if (!p.getSchedule().isEmpty()) {
            m.put("schedule", p.getSchedule());
        }
        return m;
    }

    /** The core policy as proto. */
    public static io.berth.proto.admin.v1.RetentionPolicy policy(RetentionPolicy p) {
        var b = io.berth.proto.admin.v1.RetentionPolicy.newBuilder()
                .setName(p.name())
                .addAllRepositories(p.repositories())
                .setExcludeTagsMatching(p.excludeTagsMatching())
                .setUntagged(p.untagged().name().toLowerCase(Locale.ROOT))
                .setReferrers(p.referrers().name().toLowerCase(Locale.ROOT))
                .setSchedule(p.schedule());
        for (RetentionPolicy.Rule r : p.rules()) {
            b.addRules(
                    switch (r) {
                        case RetentionPolicy.KeepLastPushed k ->
                            RetentionRule.newBuilder().setKeepLastPushed(k.count());
                        case RetentionPolicy.KeepLastPulled k ->
                            RetentionRule.newBuilder().setKeepLastPulled(k.count());
                        case RetentionPolicy.KeepPushedWithin k ->
                            RetentionRule.newBuilder().setKeepPushedWithin(k.text());
                        case RetentionPolicy.KeepPulledWithin k ->
                            RetentionRule.newBuilder().setKeepPulledWithin(k.text());
                        case RetentionPolicy.KeepTagsMatching k ->
                            RetentionRule.newBuilder().setKeepTagsMatching(k.regex());
                    });
        }
        return b.build();
    }

    private static RetentionPolicyInfo info(Retention.PolicyInfo i) {
        return RetentionPolicyInfo.newBuilder()
                .setPolicy(policy(i.policy()))
                .setCreatedEpochMillis(i.createdAt())
                .setUpdatedEpochMillis(i.updatedAt())
                .setLastRunEpochMillis(i.lastRunAt().orElse(0L))
                .setLastRun(i.lastRun())
                .build();
    }

    @Override
    public void putRetentionPolicy(PutRetentionPolicyRequest request, StreamObserver<RetentionPolicyInfo> response) {
        unary(
                response,
                () -> info(maintenance.retention().put(RetentionPolicy.fromMap(policyMap(request.getPolicy())))));
    }

    @Override
    public void getRetentionPolicy(GetRetentionPolicyRequest request, StreamObserver<RetentionPolicyInfo> response) {
        unary(response, () -> info(maintenance.retention().get(request.getName())));
    }

    @Override
    public void listRetentionPolicies(
            ListRetentionPoliciesRequest request, StreamObserver<ListRetentionPoliciesResponse> response) {
        unary(
                response,
                () -> ListRetentionPoliciesResponse.newBuilder()
                        .addAllPolicies(maintenance.retention().list().stream()
                                .map(RegistryAdminService::info)
                                .toList())
                        .build());
    }

    @Override
    public void deleteRetentionPolicy(
            DeleteRetentionPolicyRequest request, StreamObserver<DeleteRetentionPolicyResponse> response) {
        unary(response, () -> {
            maintenance.retention().delete(request.getName());
            return DeleteRetentionPolicyResponse.getDefaultInstance();
        });
    }

    private static TagDecision decision(Retention.TagDecision t) {
        return TagDecision.newBuilder()
                .setRepository(t.repository().value())
                .setTag(t.tag())
                .setDigest(t.digest().toString())
                .setKeep(t.keep())
                .setReason(t.reason())
                .build();
    }

    private static ManifestDeletion deletion(Retention.ManifestDecision m) {
        return ManifestDeletion.newBuilder()
                .setRepository(m.repository().value())
                .setDigest(m.digest().toString())
                .setSize(m.size())
                .setReason(m.reason())
                .addAllTags(m.tags())
                .build();
    }

    @Override
    public void dryRunRetention(DryRunRetentionRequest request, StreamObserver<RetentionPlan> response) {
        unary(response, () -> {
            // a read-only caller writes nothing: its plan is evaluated, not stored (no id to run it by)
            Retention.Plan p = AdminAuth.READ_ONLY.get()
                    ? maintenance.retention().preview(request.getName(), cancellation())
                    : maintenance.retention().dryRun(request.getName(), cancellation());
            return RetentionPlan.newBuilder()
                    .setPlanId(p.id())
                    .setPolicy(p.policy())
                    .setCreatedEpochMillis(p.createdAt())
                    .addAllTags(p.tags().stream()
                            .map(RegistryAdminService::decision)
                            .toList())
                    .addAllManifests(p.manifests().stream()
                            .map(RegistryAdminService::deletion)
                            .toList())
                    .setTagsKept(p.tagsKept())
                    .setTagsDeleted(p.tagsDeleted())
                    .build();
        });
    }

    @Override
    public void runRetention(RunRetentionRequest request, StreamObserver<RetentionRunResult> response) {
        unary(response, () -> {
            Retention.RunResult r = maintenance.retention().run(request.getName(), request.getPlanId(), cancellation());
            return RetentionRunResult.newBuilder()
                    .setPolicy(r.policy())
                    .setPlanId(r.planId())
                    .addAllTagsDeleted(r.tagsDeleted().stream()
                            .map(RegistryAdminService::decision)
                            .toList())
                    .addAllManifestsDeleted(r.manifestsDeleted().stream()
                            .map(RegistryAdminService::deletion)
                            .toList())
                    .addAllSkipped(r.skipped())
                    .setSummary(r.summary())
                    .build();
        });
    }

    // ---- immutability

    private static ImmutabilityRule rule(Immutability.Rule r) {
        return ImmutabilityRule.newBuilder()
                .setId(r.id())
                .setRepositories(r.repositories())
                .setTags(r.tags())
                .setCreatedEpochMillis(r.createdAt())
                .build();
    }

    @Override
    public void addImmutabilityRule(AddImmutabilityRuleRequest request, StreamObserver<ImmutabilityRule> response) {
        unary(response, () -> rule(registry.immutability().add(request.getRepositories(), request.getTags())));
    }

    @Override
    public void listImmutabilityRules(
            ListImmutabilityRulesRequest request, StreamObserver<ListImmutabilityRulesResponse> response) {
        unary(
                response,
                () -> ListImmutabilityRulesResponse.newBuilder()
                        .addAllRules(registry.immutability().list().stream()
                                .map(RegistryAdminService::rule)
                                .toList())
                        .build());
    }

    @Override
    public void deleteImmutabilityRule(
            DeleteImmutabilityRuleRequest request, StreamObserver<DeleteImmutabilityRuleResponse> response) {
        unary(response, () -> {
            registry.immutability().delete(request.getId());
            return DeleteImmutabilityRuleResponse.getDefaultInstance();
        });
    }

    // ---- robot accounts

    private static Robot robot(RobotRecord r) {
        return Robot.newBuilder()
                .setName(r.name())
                .addAllRepositories(r.repositories())
                .addAllActions(r.actions())
                .setDescription(r.description())
                .setCreatedEpochMillis(r.createdAt())
                .setCreatedBy(r.createdBy())
                .build();
    }

    @Override
    public void createRobot(CreateRobotRequest request, StreamObserver<CreatedRobot> response) {
        unary(response, () -> {
            Robots.Created c = robots.create(
                    request.getName(),
                    request.getRepositoriesList(),
                    request.getActionsList(),
                    request.getDescription(),
                    caller());
            return CreatedRobot.newBuilder()
                    .setRobot(robot(c.robot()))
                    .setSecret(c.secret())
                    .build();
        });
    }

    @Override
    public void listRobots(ListRobotsRequest request, StreamObserver<ListRobotsResponse> response) {
        unary(
                response,
                () -> ListRobotsResponse.newBuilder()
                        .addAllRobots(robots.list().stream()
                                .map(RegistryAdminService::robot)
                                .toList())
                        .build());
    }

    @Override
    public void revokeRobot(RevokeRobotRequest request, StreamObserver<RevokeRobotResponse> response) {
        unary(response, () -> {
            robots.revoke(request.getName());
            return RevokeRobotResponse.getDefaultInstance();
        });
    }

    // ---- garbage collection

    static GarbageCollectionStatus status(GarbageCollector.Status s) {
        return GarbageCollectionStatus.newBuilder()
                .setId(s.id())
                .setState(s.state().name())
                .setDryRun(s.dryRun())
                .setDeleteUntagged(s.deleteUntagged())
                .setGrace(BerthConfig.formatMillis(s.grace().toMillis()))
                .setCutoffEpochMillis(s.cutoffAt())
                .setPhase(s.phase())
                .setStartedEpochMillis(s.startedAt())
                .setUpdatedEpochMillis(s.updatedAt())
                .setFinishedEpochMillis(s.finishedAt().orElse(0L))
                .setManifestsDeleted(s.manifestsDeleted())
                .setBlobsExamined(s.blobsExamined())
                .setBlobsDeleted(s.blobsDeleted())
                .setBytesFreed(s.bytesFreed())
                .addAllItems(s.items())
                .setError(s.error() == null ? "" : s.error())
                .build();
    }

    @Override
    public void runGarbageCollection(
            RunGarbageCollectionRequest request, StreamObserver<GarbageCollectionStatus> response) {
        GarbageCollector.Status started;
        try {
            Duration grace = request.getGrace().isEmpty()
                    ? defaultGrace
                    : Durations.parse(request.getGrace(), Duration.ZERO, Duration.ofDays(365))
                            .orElseThrow(() -> RegistryException.of(
                                    ErrorCode.INVALID_ARGUMENT,
                                    "grace '" + request.getGrace() + "' is not a duration from 0s to 365d"
                                            + " (e.g. 1h, 30m, 0s)",
                                    "grace",
                                    request.getGrace()));
            started = maintenance
                    .gc()
                    .start(new GarbageCollector.Options(request.getDryRun(), grace, request.getDeleteUntagged()));
        } catch (RegistryException e) {
            response.onError(AdminErrors.of(e));
            return;
        }
        follow(started, response);
    }

    @Override
    public void getGarbageCollectionStatus(
            GetGarbageCollectionStatusRequest request, StreamObserver<GarbageCollectionStatus> response) {
        unary(response, () -> status(maintenance.gc().status()));
    }

    @Override
    public void watchGarbageCollection(
            GetGarbageCollectionStatusRequest request, StreamObserver<GarbageCollectionStatus> response) {
        GarbageCollector.Status s;
        try {
            s = maintenance.gc().status();
        } catch (RegistryException e) {
            response.onError(AdminErrors.of(e));
            return;
        }
        follow(s, response);
    }

    /**
     * Streams the run's progress, starting with {@code first}, until it finishes or the caller goes away
     * (the run goes on either way).
     */
    private void follow(GarbageCollector.Status first, StreamObserver<GarbageCollectionStatus> response) {
        ServerCallStreamObserver<GarbageCollectionStatus> call =
                (ServerCallStreamObserver<GarbageCollectionStatus>) response;
        String runId = first.id();
        Object lock = new Object();
        boolean[] done = {false};
        Runnable[] unsubscribe = new Runnable[1];
        Consumer<GarbageCollector.Status> send = s -> {
            if (!s.id().equals(runId)) {
                return;
            }
            synchronized (lock) {
                if (done[0] || call.isCancelled()) {
                    return;
                }
                call.onNext(status(s));
                if (s.finished()) {
                    done[0] = true;
                    call.onCompleted();
                }
            }
            if (s.finished() && unsubscribe[0] != null) {
                unsubscribe[0].run();
            }
        };
        call.setOnCancelHandler(() -> {
            synchronized (lock) {
                done[0] = true;
            }
            if (unsubscribe[0] != null) {
                unsubscribe[0].run();
            }
        });
        boolean finished;
        synchronized (lock) { // updates wait until the first message went out: the stream stays in order
            send.accept(first);
            unsubscribe[0] = maintenance.gc().subscribe(send);
            finished = done[0];
        }
        if (finished) {
            unsubscribe[0].run();
            return;
        }
        GarbageCollector.Status now = maintenance.gc().status();
        if (now.updatedAt() != first.updatedAt() || now.state() != first.state()) {
            send.accept(now); // where it is now (perhaps finished already)
        }
    }

    // ---- events

    private static final String EVENT_TOKEN = "ev1:";

    static Event event(OutboxEvent e) {
        Event.Builder b = Event.newBuilder()
                .setSequence(e.seq())
                .setRecordedEpochMillis(e.createdAt())
                .setType(e.type())
                .setRepository(e.repository())
                .setRepositorySequence(e.repoSeq())
                .setId(e.id())
                .setPayload(e.payload());
        try {
            RegistryEvent decoded = EventCodec.decode(e.payload().getBytes(StandardCharsets.UTF_8));
            b.setSubject(decoded.subject() == null ? "" : decoded.subject());
            if (decoded.data() != null
                    && decoded.data().request() != null
                    && decoded.data().request().id() != null) {
                b.setRequestId(decoded.data().request().id());
            }
        } catch (MalformedEventException ex) {
            // the payload goes out as it is; the fields read from it stay empty
        }
        return b.build();
    }

    private static EventLog.Start start(boolean after, long sequence, boolean since, long millis, EventLog.Start none) {
        if (after) {
            return new EventLog.Start.After(sequence);
        }
        return since ? new EventLog.Start.Since(millis) : none;
    }

    @Override
    public void listEvents(ListEventsRequest request, StreamObserver<ListEventsResponse> response) {
        unary(response, () -> {
            EventLog log = registry.eventLog();
            EventLog.Filter filter = EventLog.Filter.of(request.getRepositories(), request.getTypesList());
            int size = request.getPageSize();
            if (size < 0 || size > EventLog.MAX_PAGE) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "page_size " + size + " is not from 1 to " + EventLog.MAX_PAGE + " (0: 100)");
            }
            long position;
            if (!request.getPageToken().isEmpty()) {
                position = pageToken(request.getPageToken());
                log.position(new EventLog.Start.After(position)); // a token of another database, or pruned since
            } else {
                position = log.position(start(
                        request.hasAfterSequence(),
                        request.getAfterSequence(),
                        request.hasSinceEpochMillis(),
                        request.getSinceEpochMillis(),
                        new EventLog.Start.Oldest()));
            }
            EventLog.Page page = log.read(position, filter, size == 0 ? 100 : size);
            return ListEventsResponse.newBuilder()
                    .addAllEvents(page.events().stream()
                            .map(RegistryAdminService::event)
                            .toList())
                    .setNextPageToken(page.end() ? "" : EVENT_TOKEN + page.position())
                    .setLastSequence(page.position())
                    .build();
        });
    }

    private static long pageToken(String token) {
        try {
            if (token.startsWith(EVENT_TOKEN)) {
                long seq = Long.parseLong(token.substring(EVENT_TOKEN.length()));
                if (seq >= 0) {
                    return seq;
                }
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw RegistryException.of(
                ErrorCode.INVALID_ARGUMENT, "page_token is not a next_page_token of ListEvents", "page_token", token);
    }

    @Override
    public void watchEvents(WatchEventsRequest request, StreamObserver<Event> response) {
        ServerCallStreamObserver<Event> call = (ServerCallStreamObserver<Event>) response;
        EventLog log = registry.eventLog();
        EventLog.Filter filter;
        long position;
        try {
            filter = EventLog.Filter.of(request.getRepositories(), request.getTypesList());
            position = log.position(start(
                    request.hasAfterSequence(),
                    request.getAfterSequence(),
                    request.hasSinceEpochMillis(),
                    request.getSinceEpochMillis(),
                    new EventLog.Start.Latest()));
        } catch (RegistryException e) {
            response.onError(AdminErrors.of(e));
            return;
        } catch (EventLog.PrunedException e) {
            response.onError(Status.OUT_OF_RANGE.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "WatchEvents (request " + caller().requestId() + "): " + e.getMessage());
            response.onError(Status.UNAVAILABLE
                    .withDescription("reading the events failed: " + e.getMessage())
                    .asRuntimeException());
            return;
        }
        watches.start(log, position, filter, call, RegistryAdminService::event, caller().requestId());
    }
}
