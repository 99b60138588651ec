package io.berth.core.retention;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ChildEdge;
import io.berth.core.metadata.ManifestSummary;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.metadata.StoredRetentionPlan;
import io.berth.core.metadata.StoredRetentionPolicy;
import io.berth.core.metadata.TagRecord;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.TagRegex;
import io.berth.core.registry.Cancellation;
import io.berth.core.registry.Immutability;
import io.berth.core.registry.Manifests;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Retention policies: stored, evaluated into plans (dry runs), and run — deleting through
 * {@link Manifests}, the path {@code /v2} deletes take, with their events.
 *
 * <p>Decisions, per repository matching the policy: an immutable tag is always kept (the plan names
 * the rule). A tag matching {@code exclude-tags-matching} takes part in no rule and is deleted. Any
 * other tag is kept when any rule keeps it, else deleted. A manifest is deleted only when nothing
 * kept reaches it: no kept tag points at it, no kept index lists it, it is no referrer of a kept
 * manifest — whatever other tags pointed at it. Deleted with a deleted manifest: the manifests only
 * it listed, and its referrers unless {@code referrers: keep}. With {@code untagged: delete}, untagged
 * manifests pushed more than {@link #UNTAGGED_GRACE} ago that nothing kept reaches are deleted too.
 */
public final class Retention {
    private static final System.Logger LOG = System.getLogger(Retention.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Untagged manifests younger than this are never deleted: a push of an index sends its children first. */
    public static final Duration UNTAGGED_GRACE = Duration.ofHours(1);
    /** How long a dry run's plan can be run. */
    public static final Duration PLAN_LIFETIME = Duration.ofDays(7);

    private static final int PAGE = 1000;

    private final Manifests manifests;
    private final MetadataStore metadata;
    private final Clock clock;

    public Retention(MetadataStore metadata, Manifests manifests, Clock clock) {
        this.manifests = manifests;
        this.metadata = metadata;
        this.clock = clock;
    }

    /** A policy and what its last run did. */
    public record PolicyInfo(
            RetentionPolicy policy, long createdAt, long updatedAt, Optional<Long> lastRunAt, String lastRun) {}

    /** What a plan says of one tag. */
    public record TagDecision(RepositoryName repository, String tag, Digest digest, boolean keep, String reason) {
        String key() {
            return "tag " + repository + ":" + tag + "@" + digest;
        }
    }

    /** A manifest the plan deletes, with why, and the tags that go with it. */
    public record ManifestDecision(
            RepositoryName repository, Digest digest, long size, String reason, List<String> tags) {
        String key() {
            return "manifest " + repository + "@" + digest;
        }
    }

    /** A dry run: every tag's decision and the manifests that would be deleted. */
    public record Plan(
            String id, String policy, long createdAt, List<TagDecision> tags, List<ManifestDecision> manifests) {
        public long tagsDeleted() {
            return tags.stream().filter(t -> !t.keep()).count();
        }

        public long tagsKept() {
            return tags.stream().filter(TagDecision::keep).count();
        }

        /** The deletions, as keys: what a run limited to this plan may do. */
        List<String> items() {
            List<String> out = new ArrayList<>();
            manifests.forEach(m -> out.add(m.key()));
            tags.stream().filter(t -> !t.keep()).forEach(t -> out.add(t.key()));
            return out;
        }
    }

    /** What a run did: deletions made, and deletions of the plan it skipped with why. */
    public record RunResult(
            String policy,
            String planId,
            List<TagDecision> tagsDeleted,
            List<ManifestDecision> manifestsDeleted,
            List<String> skipped) {
        public String summary() {
            return "deleted " + tagsDeleted.size() + " tags and " + manifestsDeleted.size() + " manifests"
                    + (skipped.isEmpty() ? "" : "; skipped " + skipped.size());
        }
    }

    // ---- policies

    public PolicyInfo put(RetentionPolicy policy) {
        String spec = json(policy.toMap());
        metadata.inTransaction(tx -> tx.retention().putPolicy(policy.name(), spec));
        return get(policy.name());
    }

    public PolicyInfo get(String name) {
        return info(metadata.retention().policy(name).orElseThrow(() -> unknown(name)));
    }

    public List<PolicyInfo> list() {
        return metadata.retention().policies().stream().map(Retention::info).toList();
    }

    public void delete(String name) {
        if (!metadata.<Boolean>inTransaction(tx -> tx.retention().deletePolicy(name))) {
            throw unknown(name);
        }
    }

    private static PolicyInfo info(StoredRetentionPolicy p) {
        RetentionPolicy policy;
        try {
            policy = RetentionPolicy.stored(JSON.readValue(p.spec(), Map.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored policy " + p.name() + " is not JSON", e);
        }
        return new PolicyInfo(
                policy,
                p.createdAt(),
                p.updatedAt(),
                p.lastRunAt().isPresent() ? Optional.of(p.lastRunAt().getAsLong()) : Optional.empty(),
                p.lastRun());
    }

    private static RegistryException unknown(String name) {
        return RegistryException.of(ErrorCode.NOT_FOUND, "no retention policy " + name, "policy", name);
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- dry run and run

    /**
     * Evaluates the policy now without storing anything: the plan has no id, so no run can be limited
     * to it (a read-only caller's dry run).
     */
    public Plan preview(String name, Cancellation cancellation) {
        Plan plan = evaluate(get(name).policy(), clock.millis(), cancellation);
        return new Plan("", plan.policy(), plan.createdAt(), plan.tags(), plan.manifests());
    }

    /** Evaluates the policy now and stores the plan, so that {@link #run} can be limited to it. */
    public Plan dryRun(String name) {
        return dryRun(name, Cancellation.NEVER);
    }

    /**
     * {@link #dryRun(String)} for a caller who may go away: the evaluation stops then.
     *
     * @throws java.util.concurrent.CancellationException when the caller went away
     */
    public Plan dryRun(String name, Cancellation cancellation) {
        Plan plan = evaluate(get(name).policy(), clock.millis(), cancellation);
        String items = json(Map.of("items", plan.items()));
        metadata.inTransaction(tx -> {
            tx.retention().prunePlans(clock.millis() - PLAN_LIFETIME.toMillis());
            tx.retention().insertPlan(new StoredRetentionPlan(plan.id(), name, plan.createdAt(), items));
            return null;
        });
        return plan;
    }

    /**
     * Runs the policy now. With a plan id, only deletions that plan listed <em>and</em> that are still
     * decided now are made — nothing else, ever; without, the deletions decided now.
     */
    public RunResult run(String name, String planId) {
        return run(name, planId, Cancellation.NEVER);
    }

    /**
     * {@link #run(String, String)} for a caller who may go away: while the policy is evaluated, that
     * stops the run before it deletes anything; once deleting, the run goes on to its end.
     *
     * @throws java.util.concurrent.CancellationException when the caller went away during the evaluation
     */
    public RunResult run(String name, String planId, Cancellation cancellation) {
        RetentionPolicy policy = get(name).policy();
        Plan now = evaluate(policy, clock.millis(), cancellation);
        Set<String> allowed = new LinkedHashSet<>(now.items());
        List<String> skipped = new ArrayList<>();
        if (planId != null && !planId.isEmpty()) {
            StoredRetentionPlan stored = metadata.retention()
                    .plan(planId)
                    .orElseThrow(() -> RegistryException.of(
                            ErrorCode.NOT_FOUND,
                            "no retention plan " + planId + " (plans are kept for " + PLAN_LIFETIME.toDays() + " days)",
                            "plan",
                            planId));
            if (!stored.policy().equals(name)) {
                throw RegistryException.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "plan " + planId + " is of policy " + stored.policy() + ", not " + name,
                        "plan",
                        planId);
            }
            Set<String> planned = new LinkedHashSet<>(planItems(stored));
            for (String item : planned) {
                if (!allowed.contains(item)) {
                    skipped.add(item + ": no longer eligible");
                }
            }
            allowed.retainAll(planned);
        }
        RunResult result = execute(name, planId, now, allowed, skipped);
        metadata.inTransaction(tx -> {
            tx.retention().recordRun(name, result.summary());
            return null;
        });
        LOG.log(System.Logger.Level.INFO, "retention policy " + name + ": " + result.summary());
        return result;
    }

    @SuppressWarnings("unchecked")
    private static List<String> planItems(StoredRetentionPlan stored) {
        try {
            return (List<String>) JSON.readValue(stored.items(), Map.class).get("items");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored plan " + stored.id() + " is not JSON", e);
        }
    }

    private RunResult execute(String name, String planId, Plan plan, Set<String> allowed, List<String> skipped) {
        Caller caller = Caller.job(Caller.RETENTION, "retention " + name);
        List<ManifestDecision> deletedManifests = new ArrayList<>();
        List<TagDecision> deletedTags = new ArrayList<>();
        long untaggedBefore = clock.millis() - UNTAGGED_GRACE.toMillis();
        // manifests: an index before what it lists; what is listed is retried once its index is gone
        List<ManifestDecision> pending = new ArrayList<>(
                plan.manifests().stream().filter(m -> allowed.contains(m.key())).toList());
        boolean progress = true;
        while (!pending.isEmpty() && progress) {
            progress = false;
            List<ManifestDecision> listed = new ArrayList<>();
            for (ManifestDecision m : pending) {
                long pushedBefore =
                        m.tags().isEmpty() && m.reason().startsWith("untagged") ? untaggedBefore : Long.MAX_VALUE;
                Manifests.Removal r;
                try {
                    r = manifests.deleteIfUnkept(
                            caller, m.repository(), m.digest(), Set.copyOf(m.tags()), pushedBefore);
                } catch (RegistryException e) {
                    skipped.add(m.key() + ": " + e.getMessage());
                    continue;
                }
                switch (r) {
                    case DELETED -> {
                        deletedManifests.add(m);
                        progress = true;
                    }
                    case LISTED, REFERRER_OF_KEPT -> listed.add(m);
                    default ->
                        skipped.add(m.key() + ": " + r.name().toLowerCase().replace('_', ' '));
                }
            }
            pending = listed;
        }
        pending.forEach(m -> skipped.add(m.key() + ": still listed by an index or a referrer of a kept manifest"));
        Set<String> gone = new HashSet<>();
        deletedManifests.forEach(m -> m.tags().forEach(t -> gone.add(m.repository() + ":" + t)));
        for (TagDecision t : plan.tags()) {
            if (t.keep() || !allowed.contains(t.key())) {
                continue;
            }
            if (gone.contains(t.repository() + ":" + t.tag())) {
                deletedTags.add(t);
                continue;
            }
            try {
                if (manifests.deleteTagIfAt(caller, t.repository(), t.tag(), t.digest())) {
                    deletedTags.add(t);
                } else {
                    skipped.add(t.key() + ": moved or deleted meanwhile");
                }
            } catch (RegistryException e) {
                skipped.add(t.key() + ": " + e.getMessage());
            }
        }
        return new RunResult(name, planId == null ? "" : planId, deletedTags, deletedManifests, skipped);
    }

    /** The decisions of {@code policy} at {@code now} (epoch millis); changes nothing. */
    public Plan evaluate(RetentionPolicy policy, long now) {
        return evaluate(policy, now, Cancellation.NEVER);
    }

    /**
     * The decisions of {@code policy} at {@code now}, checking between repositories and tags that the
     * caller is still there.
     */
    public Plan evaluate(RetentionPolicy policy, long now, Cancellation cancellation) {
        // globs and expressions as stored: a policy put by an earlier version still reads; an expression
        // RE2 refuses stops the evaluation here, before any decision (FAILED_PRECONDITION)
        List<RepositoryGlob> globs =
                policy.repositories().stream().map(RepositoryGlob::stored).toList();
        RetentionPolicy.Regexes regexes = policy.regexes();
        List<TagDecision> tagDecisions = new ArrayList<>();
        List<ManifestDecision> manifestDecisions = new ArrayList<>();
        String after = null;
        while (true) {
            List<String> names = metadata.repositories().names(after, PAGE);
            for (String n : names) {
                cancellation.check();
                if (RepositoryGlob.anyMatches(globs, n)) {
                    evaluate(policy, regexes, RepositoryName.of(n), now, tagDecisions, manifestDecisions, cancellation);
                }
            }
            if (names.size() < PAGE) {
                break;
            }
            after = names.get(names.size() - 1);
        }
        return new Plan(UUID.randomUUID().toString(), policy.name(), now, tagDecisions, manifestDecisions);
    }

    private void evaluate(
            RetentionPolicy policy,
            RetentionPolicy.Regexes regexes,
            RepositoryName repo,
            long now,
            List<TagDecision> tagOut,
            List<ManifestDecision> manifestOut,
            Cancellation cancellation) {
        List<TagRecord> tags = allTags(repo);
        Optional<TagRegex> exclude = regexes.exclude();
        Map<String, String> keptBy = new HashMap<>();
        Map<String, String> deletedWhy = new HashMap<>();
        List<TagRecord> participating = new ArrayList<>();
        Immutability.Checker immutable = Immutability.checker(metadata);
        for (TagRecord t : tags) {
            cancellation.check();
            Optional<Immutability.Rule> rule = immutable.protecting(repo, t.name());
            if (rule.isPresent()) {
                keptBy.put(t.name(), "immutable: " + rule.get().describe());
            } else if (exclude.isPresent() && exclude.get().matches(t.name())) {
                deletedWhy.put(
                        t.name(),
                        "excluded by exclude-tags-matching '" + policy.excludeTagsMatching() + "', so kept by no rule");
            } else {
                participating.add(t);
            }
        }
        Comparator<TagRecord> newestPush =
                Comparator.comparingLong(TagRecord::pushedAt).reversed().thenComparing(TagRecord::name);
        Comparator<TagRecord> newestPull = Comparator.comparingLong(
                        (TagRecord t) -> t.lastPulledAt().orElse(0))
                .reversed()
                .thenComparing(TagRecord::name);
        for (RetentionPolicy.Rule rule : policy.rules()) {
            List<TagRecord> kept = switch (rule) {
                case RetentionPolicy.KeepLastPushed r ->
                    participating.stream().sorted(newestPush).limit(r.count()).toList();
                case RetentionPolicy.KeepLastPulled r ->
                    participating.stream()
                            .filter(t -> t.lastPulledAt().isPresent())
                            .sorted(newestPull)
                            .limit(r.count())
                            .toList();
                case RetentionPolicy.KeepPushedWithin r ->
                    participating.stream()
                            .filter(t -> t.pushedAt() >= now - r.within().toMillis())
                            .toList();
                case RetentionPolicy.KeepPulledWithin r ->
                    participating.stream()
                            .filter(t -> t.lastPulledAt().isPresent()
                                    && t.lastPulledAt().getAsLong()
                                            >= now - r.within().toMillis())
                            .toList();
                case RetentionPolicy.KeepTagsMatching r -> {
                    TagRegex p = regexes.keep().get(r);
                    yield participating.stream()
                            .filter(t -> p.matches(t.name()))
                            .toList();
                }
            };
            kept.forEach(t -> keptBy.putIfAbsent(t.name(), "kept by " + rule.describe()));
        }
        Map<Digest, List<String>> deletedTagsOf = new LinkedHashMap<>();
        Set<Digest> roots = new HashSet<>();
        for (TagRecord t : tags) {
            String keep = keptBy.get(t.name());
            if (keep != null) {
                roots.add(t.digest());
                tagOut.add(new TagDecision(repo, t.name(), t.digest(), true, keep));
            } else {
                tagOut.add(new TagDecision(
                        repo, t.name(), t.digest(), false, deletedWhy.getOrDefault(t.name(), "kept by no rule")));
                deletedTagsOf
                        .computeIfAbsent(t.digest(), d -> new ArrayList<>())
                        .add(t.name());
            }
        }
        // the graph: what lists what, what refers to what
        Map<Digest, ManifestSummary> manifests = new LinkedHashMap<>();
        allManifests(repo).forEach(m -> manifests.put(m.digest(), m));
        Map<Digest, List<Digest>> children = new HashMap<>();
        for (ChildEdge e : metadata.manifests().childEdges(repo)) {
            if (!e.parent().equals(e.child())) {
                children.computeIfAbsent(e.parent(), k -> new ArrayList<>()).add(e.child());
            }
        }
        Map<Digest, List<Digest>> referrers = new HashMap<>();
        manifests
                .values()
                .forEach(m -> m.subject()
                        .ifPresent(s -> referrers
                                .computeIfAbsent(s, k -> new ArrayList<>())
                                .add(m.digest())));
        Set<Digest> tagged = new HashSet<>();
        tags.forEach(t -> tagged.add(t.digest()));
        Set<Digest> reachable = closure(roots, children, referrers, true);
        // candidates, with why
        Map<Digest, String> candidates = new LinkedHashMap<>();
        for (Digest d : deletedTagsOf.keySet()) {
            candidates.put(d, "its tags (" + String.join(", ", deletedTagsOf.get(d)) + ") are deleted");
        }
        Deque<Digest> work = new ArrayDeque<>(candidates.keySet());
        while (!work.isEmpty()) {
            Digest d = work.pop();
            for (Digest c : children.getOrDefault(d, List.of())) {
                if (candidates.putIfAbsent(c, "listed only by deleted index " + d) == null) {
                    work.push(c);
                }
            }
            if (policy.referrers() == RetentionPolicy.Mode.DELETE) {
                for (Digest r : referrers.getOrDefault(d, List.of())) {
                    if (candidates.putIfAbsent(r, "a referrer of deleted manifest " + d) == null) {
                        work.push(r);
                    }
                }
            }
        }
        if (policy.untagged() == RetentionPolicy.Mode.DELETE) {
            long before = now - UNTAGGED_GRACE.toMillis();
            for (ManifestSummary m : manifests.values()) {
                boolean keepAsReferrer = m.subject().isPresent() && policy.referrers() == RetentionPolicy.Mode.KEEP;
                if (!tagged.contains(m.digest()) && m.pushedAt() < before && !keepAsReferrer) {
                    candidates.putIfAbsent(m.digest(), "untagged");
                }
            }
        }
        for (Map.Entry<Digest, String> c : candidates.entrySet()) {
            ManifestSummary m = manifests.get(c.getKey());
            if (m == null || reachable.contains(c.getKey())) {
                continue; // absent (sparse index), or something kept reaches it
            }
            manifestOut.add(new ManifestDecision(
                    repo,
                    c.getKey(),
                    m.size(),
                    c.getValue(),
                    List.copyOf(deletedTagsOf.getOrDefault(c.getKey(), List.of()))));
        }
    }

    /** Everything reachable from {@code roots} through index children and (when asked) referrers. */
    static Set<Digest> closure(
            Set<Digest> roots,
            Map<Digest, List<Digest>> children,
            Map<Digest, List<Digest>> referrers,
            boolean followReferrers) {
        Set<Digest> seen = new HashSet<>(roots);
        Deque<Digest> work = new ArrayDeque<>(roots);
        while (!work.isEmpty()) {
            Digest d = work.pop();
            List<Digest> next = new ArrayList<>(children.getOrDefault(d, List.of()));
            if (followReferrers) {
                next.addAll(referrers.getOrDefault(d, List.of()));
            }
            for (Digest n : next) {
                if (seen.add(n)) {
                    work.push(n);
                }
            }
        }
        return seen;
    }

    private List<TagRecord> allTags(RepositoryName repo) {
        List<TagRecord> out = new ArrayList<>();
        String after = null;
        while (true) {
            List<TagRecord> page = metadata.tags().records(repo, after, PAGE);
            out.addAll(page);
            if (page.size() < PAGE) {
                return out;
            }
            after = page.get(page.size() - 1).name();
        }
    }

    private List<ManifestSummary> allManifests(RepositoryName repo) {
        List<ManifestSummary> out = new ArrayList<>();
        String after = null;
        while (true) {
            List<ManifestSummary> page = metadata.manifests().summaries(repo, after, PAGE, false);
            out.addAll(page);
            if (page.size() < PAGE) {
                return out;
            }
            after = page.get(page.size() - 1).digest().toString();
        }
    }

    // ---- schedules

    /**
     * Runs every scheduled policy whose next time (after its last run, or its last change) has come;
     * the lease {@code retention:<name>} makes one instance run it. Returns the policies run.
     */
    public List<String> runDue(String owner) {
        return runDue(owner, Cancellation.NEVER);
    }

    /**
     * As above; {@code stop} is asked before each policy (a run that has begun deleting goes on to
     * its end, so that a stop never leaves a plan half applied).
     */
    public List<String> runDue(String owner, Cancellation stop) {
        List<String> ran = new ArrayList<>();
        long now = clock.millis();
        for (PolicyInfo p : list()) {
            if (stop.cancelled()) {
                break;
            }
            Optional<Cron> cron = p.policy().cron();
            if (cron.isEmpty()) {
                continue;
            }
            long since = p.lastRunAt().orElse(p.updatedAt());
            if (p.lastRunAt().isPresent() && p.lastRunAt().get() < p.updatedAt()) {
                since = p.updatedAt();
            }
            if (cron.get().nextAfter(since) > now) {
                continue;
            }
            String name = p.policy().name();
            boolean mine = metadata.<Boolean>inTransaction(tx -> tx.leases()
                    .acquire(
                            "retention:" + name,
                            owner,
                            now + Duration.ofMinutes(30).toMillis()));
            if (!mine) {
                continue;
            }
            try {
                run(name, null);
                ran.add(name);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "scheduled retention policy " + name + " failed: " + e);
                metadata.inTransaction(tx -> {
                    tx.retention().recordRun(name, "failed: " + e.getMessage());
                    return null;
                });
            }
        }
        return ran;
    }
}
