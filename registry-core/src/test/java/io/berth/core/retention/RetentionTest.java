package io.berth.core.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.registry.Cancellation;
import io.berth.core.registry.Registry;
import io.berth.core.registry.RegistryOptions;
import io.berth.core.testing.Images;
import io.berth.testsupport.MutableClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

class RetentionTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");
    static final RepositoryName OTHER = RepositoryName.of("team-b/app");

    @TempDir
    Path dir;

    MutableClock clock = new MutableClock();
    Registry registry;
    Images images;
    Retention retention;

    @BeforeEach
    void open() throws IOException {
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db"), clock),
                RegistryOptions.defaults(),
                clock);
        images = new Images(registry);
        retention = new Retention(registry.metadata(), registry.manifests(), registry.clock());
    }

    @AfterEach
    void close() {
        registry.close();
    }

    static RetentionPolicy policy(String yaml) {
        return RetentionPolicy.fromMap(new Yaml().load(yaml));
    }

    void pull(RepositoryName repo, String tag) {
        registry.manifests().get(repo, new Tag(tag));
        registry.flushPulls();
    }

    /** Six tags pushed an hour apart (a1 oldest); a2 pulled 10 h ago, a4 pulled 30 min ago. */
    void history() {
        clock.advance(Duration.ofHours(-12));
        for (int i = 1; i <= 6; i++) {
            images.image(APP, "a" + i, "a" + i);
            if (i == 2) {
                pull(APP, "a2");
            }
            clock.advance(Duration.ofHours(1));
        }
        clock.advance(Duration.ofHours(6)); // now: a6 was pushed 7 h ago, a1 12 h ago
        clock.advance(Duration.ofMinutes(-30));
        pull(APP, "a4");
        clock.advance(Duration.ofMinutes(30));
        images.image(APP, "release-1", "r1");
        clock.advance(Duration.ofMinutes(1));
    }

    Map<String, String> decisions(Retention.Plan plan) {
        Map<String, String> out = new TreeMap<>();
        plan.tags().forEach(t -> out.put(t.tag(), (t.keep() ? "keep: " : "delete: ") + t.reason()));
        return out;
    }

    Set<String> kept(String rules) {
        Retention.Plan plan =
                retention.evaluate(policy("name: p\nrepositories: ['team-a/**']\nrules: " + rules), clock.millis());
        return plan.tags().stream()
                .filter(Retention.TagDecision::keep)
                .map(Retention.TagDecision::tag)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void eachRuleKeepsWhatItSays() {
        history();
        assertEquals(Set.of("a6", "release-1"), kept("[{keep-last-pushed: 2}]"));
        assertEquals(Set.of("a4"), kept("[{keep-last-pulled: 1}]"));
        assertEquals(Set.of("a2", "a4"), kept("[{keep-last-pulled: 5}]"), "never-pulled tags do not count");
        assertEquals(Set.of("a5", "a6", "release-1"), kept("[{keep-pushed-within: 9h}]"));
        assertEquals(Set.of("a4"), kept("[{keep-pulled-within: 1h}]"));
        assertEquals(Set.of("a2", "a4"), kept("[{keep-pulled-within: 1d}]"));
        assertEquals(Set.of("release-1"), kept("[{keep-tags-matching: 'release-.*'}]"));
        assertEquals(
                Set.of("a4", "a6", "release-1"),
                kept("[{keep-last-pushed: 2}, {keep-last-pulled: 1}, " + "{keep-tags-matching: 'release-.*'}]"),
                "any rule keeps");
    }

    @Test
    void immutabilityComesFirstExcludedTagsTakePartInNoRuleAndEveryDecisionSaysWhy() {
        history();
        var rule = registry.immutability().add("team-a/*", "a1");
        Retention.Plan plan = retention.evaluate(policy("""
                name: p
                repositories: ['team-a/**']
                rules: [{keep-last-pushed: 3}, {keep-tags-matching: 'a.*'}]
                exclude-tags-matching: 'a[5-6]'
                """), clock.millis());
        Map<String, String> d = decisions(plan);
        assertEquals("keep: immutable: " + rule.describe(), d.get("a1"));
        assertEquals("keep: kept by keep-last-pushed: 3", d.get("a4"), "a5 and a6 excluded: a4 is among the 3");
        assertEquals("keep: kept by keep-tags-matching: a.*", d.get("a2"));
        assertEquals("delete: excluded by exclude-tags-matching 'a[5-6]', so kept by no rule", d.get("a6"));
        assertEquals("keep: kept by keep-last-pushed: 3", d.get("release-1"));
        assertEquals(2, plan.tagsDeleted());
        assertEquals(
                Set.of("a5", "a6"),
                plan.manifests().stream().flatMap(m -> m.tags().stream()).collect(Collectors.toSet()));
        assertTrue(
                retention
                        .evaluate(
                                policy("name: p\nrepositories: ['team-b/**']\nrules: [{keep-last-pushed: 1}]"),
                                clock.millis())
                        .tags()
                        .isEmpty(),
                "other repositories are not touched");
    }

    @Test
    void aManifestIsDeletedOnlyWhenNothingKeptReachesIt() {
        Digest shared = images.image(APP, "old", "shared");
        registry.tags().set(Caller.at("x"), APP, "stable", shared, Optional.empty());
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        Digest keptChild = images.image(APP, "arm-only", "arm"); // same manifest as arm
        assertEquals(arm, keptChild);
        Digest index = images.index(APP, "multi", amd, arm);
        Digest signature = images.referrer(APP, index, "sig");
        Digest stableSignature = images.referrer(APP, shared, "sig2");
        clock.advance(Duration.ofHours(2));

        Retention.Plan plan = retention.evaluate(policy("""
                name: p
                repositories: [team-a/app]
                rules: [{keep-tags-matching: 'stable|arm-only'}]
                untagged: delete
                """), clock.millis());
        Map<String, String> d = decisions(plan);
        assertTrue(d.get("old").startsWith("delete"));
        assertTrue(d.get("multi").startsWith("delete"));
        Map<Digest, String> deleted = new LinkedHashMap<>();
        plan.manifests().forEach(m -> deleted.put(m.digest(), m.reason()));
        assertFalse(deleted.containsKey(shared), "stable still points at it, whatever 'old' did");
        assertFalse(deleted.containsKey(arm), "a kept tag points at it, although the deleted index listed it");
        assertFalse(deleted.containsKey(stableSignature), "a referrer of a kept manifest");
        assertEquals("its tags (multi) are deleted", deleted.get(index));
        assertEquals("listed only by deleted index " + index, deleted.get(amd));
        assertEquals("a referrer of deleted manifest " + index, deleted.get(signature));

        Retention.Plan keepReferrers = retention.evaluate(policy("""
                name: p
                repositories: [team-a/app]
                rules: [{keep-tags-matching: 'stable|arm-only'}]
                untagged: delete
                referrers: keep
                """), clock.millis());
        assertFalse(keepReferrers.manifests().stream().anyMatch(m -> m.digest().equals(signature)));

        retention.put(policy("""
                name: p
                repositories: [team-a/app]
                rules: [{keep-tags-matching: 'stable|arm-only'}]
                untagged: delete
                """));
        Retention.RunResult result = retention.run("p", null);
        assertEquals(List.of(), result.skipped());
        assertEquals(
                Set.of(index, amd, signature),
                result.manifestsDeleted().stream()
                        .map(Retention.ManifestDecision::digest)
                        .collect(Collectors.toSet()));
        for (Digest gone : List.of(index, amd, signature)) {
            assertFalse(registry.metadata().manifests().exists(APP, gone));
        }
        for (Digest kept : List.of(shared, arm, stableSignature)) {
            assertTrue(registry.metadata().manifests().exists(APP, kept));
        }
        assertTrue(registry.metadata().tags().target(APP, "old").isEmpty());
        assertEquals(shared, registry.metadata().tags().target(APP, "stable").orElseThrow());
        TagChange deletion = registry.tags().history(APP, "old").getLast();
        assertEquals(TagChange.Action.DELETED, deletion.action());
        assertEquals("retention", deletion.origin().via());
    }

    @Test
    void untaggedManifestsAreKeptOrDeletedButNeverYoungOnes() {
        images.image(APP, "v1", "v1");
        Digest old = images.image(APP, null, "old");
        clock.advance(Duration.ofMinutes(90));
        Digest young = images.image(APP, null, "young");
        String rules = "name: p\nrepositories: [team-a/app]\nrules: [{keep-last-pushed: 5}]\n";
        assertTrue(
                retention.evaluate(policy(rules), clock.millis()).manifests().isEmpty(),
                "untagged: keep is the " + "default");
        Retention.Plan plan = retention.evaluate(policy(rules + "untagged: delete\n"), clock.millis());
        assertEquals(
                List.of(old),
                plan.manifests().stream()
                        .map(Retention.ManifestDecision::digest)
                        .toList());
        assertEquals("untagged", plan.manifests().get(0).reason());
        assertTrue(registry.metadata().manifests().exists(APP, young));
    }

    @Test
    void aDryRunChangesNothingAndARunLimitedToItsPlanDoesNothingElse() {
        history();
        retention.put(policy("name: tidy\nrepositories: [team-a/app]\nrules: [{keep-last-pushed: 4}]"));
        Retention.Plan plan = retention.dryRun("tidy");
        assertEquals(
                Set.of("a1", "a2", "a3"),
                plan.tags().stream()
                        .filter(t -> !t.keep())
                        .map(Retention.TagDecision::tag)
                        .collect(Collectors.toSet()));
        assertEquals(7, registry.metadata().tags().count(APP), "a dry run deletes nothing");

        // meanwhile: a3 moves to another manifest; two newer tags push a4 and a5 out of the newest four
        images.image(APP, "a3", "moved");
        clock.advance(Duration.ofMinutes(1));
        images.image(APP, "b1", "b1");
        clock.advance(Duration.ofMinutes(1));

        Retention.RunResult r = retention.run("tidy", plan.id());
        assertEquals(
                Set.of("a1", "a2"),
                r.tagsDeleted().stream().map(Retention.TagDecision::tag).collect(Collectors.toSet()),
                "only what the plan listed and is still eligible");
        assertTrue(
                r.skipped().stream().anyMatch(s -> s.contains("a3") && s.contains("no longer eligible")),
                r.skipped().toString());
        assertTrue(registry.metadata().tags().target(APP, "a3").isPresent());
        assertTrue(registry.metadata().tags().target(APP, "a4").isPresent(), "eligible now, but not in the plan");
        assertTrue(
                retention.get("tidy").lastRun().startsWith("deleted 2 tags"),
                retention.get("tidy").lastRun());

        Retention.RunResult unplanned = retention.run("tidy", null);
        assertEquals(
                Set.of("a4", "a5"),
                unplanned.tagsDeleted().stream().map(Retention.TagDecision::tag).collect(Collectors.toSet()),
                "a run without a plan decides now");

        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> retention.run("tidy", "no-such-plan"))
                        .code());
        retention.put(policy("name: other\nrepositories: [team-a/app]\nrules: [{keep-last-pushed: 1}]"));
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(RegistryException.class, () -> retention.run("other", plan.id()))
                        .code(),
                "a plan of another policy");
    }

    @Test
    void scheduledPoliciesRunWhenTheirTimeComesOnce() {
        history();
        retention.put(policy("name: nightly\nrepositories: [team-a/app]\nrules: [{keep-last-pushed: 6}]\n"
                + "schedule: '0 3 * * *'"));
        retention.put(policy("name: manual\nrepositories: [team-a/app]\nrules: [{keep-last-pushed: 1}]"));
        assertEquals(List.of(), retention.runDue("me"), "03:00 has not come since the policy was made");
        clock.advance(Duration.ofDays(1));
        assertEquals(List.of("nightly"), retention.runDue("me"));
        assertEquals(6, registry.metadata().tags().count(APP));
        assertEquals(List.of(), retention.runDue("me"), "not again until the next 03:00");
        assertEquals(List.of(), retention.runDue("someone-else"), "nor on another instance");
        clock.advance(Duration.ofDays(1));
        assertEquals(List.of("nightly"), retention.runDue("someone-else"));
        assertEquals(List.of(), retention.runDue("me"), "one run per time, whichever instance");
    }

    @Test
    void policiesAreStoredListedAndValidatedKeyByKey() {
        RetentionPolicy p = policy("""
                name: keep-recent
                repositories: ['team-a/**', library/ubuntu]
                rules:
                  - keep-last-pushed: 10
                  - keep-pulled-within: 30d
                  - keep-tags-matching: '^v\\d+$'
                exclude-tags-matching: 'pr-.*'
                untagged: delete
                referrers: keep
                schedule: '@daily'
                """);
        retention.put(p);
        assertEquals(p, retention.get("keep-recent").policy());
        assertEquals(p, RetentionPolicy.fromMap(p.toMap()), "the map form reads back");
        assertEquals(
                List.of("keep-recent"),
                retention.list().stream().map(i -> i.policy().name()).toList());
        retention.delete("keep-recent");
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> retention.get("keep-recent"))
                        .code());
        Map<String, String> mistakes = Map.of(
                "name: Bad Name\nrepositories: [a]\nrules: [{keep-last-pushed: 1}]", "name 'Bad Name'",
                "name: p\nrules: [{keep-last-pushed: 1}]", "repositories must list",
                "name: p\nrepositories: [a]\nrules: []", "rules must list at least one rule",
                "name: p\nrepositories: [a]\nrules: [{keep-last-pushed: 0}]", "rules[0].keep-last-pushed '0'",
                "name: p\nrepositories: [a]\nrules: [{keep-pushed-within: 7x}]", "rules[0].keep-pushed-within '7x'",
                "name: p\nrepositories: [a]\nrules: [{keep-forever: 1}]", "'keep-forever' is not a rule",
                "name: p\nrepositories: [a]\nrules: [{keep-tags-matching: '('}]", "is not a regular expression",
                "name: p\nrepositories: [a]\nrules: [{keep-last-pushed: 1}]\nuntagged: maybe", "untagged 'maybe'",
                "name: p\nrepositories: [a]\nrules: [{keep-last-pushed: 1}]\nschedule: 'every day'", "schedule",
                "name: p\nrepositories: [a]\nrules: [{keep-last-pushed: 1}]\nkeep: all", "keep is not a policy key");
        Map<String, String> slips = Map.of(
                "name: p\nrepository: [a]\nrules: [{keep-last-pushed: 1}]",
                "repository is not a policy key: did you mean repositories?",
                "name: p\nrepositories: [a]\nrules: [{keep-last-pushd: 1}]",
                "'keep-last-pushd' is not a rule: did you mean keep-last-pushed?");
        mistakes = new HashMap<>(mistakes);
        mistakes.putAll(slips);
        mistakes.forEach((yaml, message) -> {
            RegistryException e = assertThrows(RegistryException.class, () -> policy(yaml), yaml);
            assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains(message), e.getMessage() + " lacks " + message);
        });
    }

    @Test
    void aDryRunOnStarStarSlashAppListsRepositoriesNamedAppOnly() {
        // the review's finding: **/app reached team-a/webapp, whose tags were planned for deletion
        RepositoryName webapp = RepositoryName.of("team-a/webapp");
        RepositoryName nested = RepositoryName.of("x/y/app");
        RepositoryName top = RepositoryName.of("app");
        for (RepositoryName r : List.of(APP, webapp, nested, top, RepositoryName.of("appx"))) {
            images.image(r, "old", "old-" + r);
            clock.advance(Duration.ofMinutes(1));
            images.image(r, "new", "new-" + r);
        }
        retention.put(policy("name: apps\nrepositories: ['**/app']\nrules: [{keep-last-pushed: 1}]"));
        Retention.Plan plan = retention.dryRun("apps");
        assertEquals(
                Set.of("team-a/app", "x/y/app", "app"),
                plan.tags().stream().map(t -> t.repository().value()).collect(Collectors.toSet()));
        assertEquals(
                Set.of("team-a/app:old", "x/y/app:old", "app:old"),
                plan.tags().stream()
                        .filter(t -> !t.keep())
                        .map(t -> t.repository() + ":" + t.tag())
                        .collect(Collectors.toSet()));
        retention.run("apps", plan.id());
        assertEquals(2, registry.metadata().tags().count(webapp), "team-a/webapp untouched");
        RegistryException bad = assertThrows(
                RegistryException.class,
                () -> policy("name: p\nrepositories: ['**/']\nrules: [{keep-last-pushed: 1}]"));
        assertTrue(
                bad.getMessage().contains("repositories") && bad.getMessage().contains("empty component"),
                bad.getMessage());
    }

    @Test
    void catastrophicJavaRegexesInRulesAreEvaluatedInLinearTime() {
        // ((a+)+)+ and (.*a){12} against 60 a's and a '-' backtrack for hours in java.util.regex (24 a's
        // take 3 s and 0.7 s); the timeout is only a hang guard, the assertions are about the decisions
        String evil = "a".repeat(60) + "-";
        images.image(APP, evil, "evil");
        images.image(APP, "aaaa", "plain");
        Map<String, String> d = assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> decisions(retention.evaluate(
                        policy("name: p\nrepositories: ['team-a/**']\nrules: [{keep-tags-matching: '((a+)+)+'}]\n"
                                + "exclude-tags-matching: '(.*a){12}'"),
                        clock.millis())));
        assertEquals(Map.of(evil, "delete: kept by no rule", "aaaa", "keep: kept by keep-tags-matching: ((a+)+)+"), d);
    }

    @Test
    void aStoredPolicyWhoseExpressionRe2RefusesListsButDecidesNothing() {
        // policies were Java regular expressions before; one with look-ahead must not delete by guesswork
        history();
        registry.metadata()
                .inTransaction(
                        tx -> tx.retention()
                                .putPolicy(
                                        "legacy",
                                        "{\"name\":\"legacy\","
                                                + "\"repositories\":[\"team-a/**\"],\"rules\":[{\"keep-tags-matching\":\"(?!a).*\"}]}"));
        assertEquals(
                List.of("legacy"),
                retention.list().stream().map(i -> i.policy().name()).toList());
        RegistryException e = assertThrows(RegistryException.class, () -> retention.dryRun("legacy"));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
        assertTrue(
                e.getMessage()
                                .contains("rules[0].keep-tags-matching '(?!a).*' is not a regular expression in RE2 "
                                        + "syntax")
                        && e.getMessage().contains("put the policy 'legacy' again"),
                e.getMessage());
        assertThrows(RegistryException.class, () -> retention.run("legacy", null));
        assertEquals(7, registry.metadata().tags().count(APP), "nothing deleted");
    }

    @Test
    void anEvaluationStopsWhenItsCallerGoesAway() {
        for (int r = 0; r < 5; r++) {
            for (int t = 0; t < 4; t++) {
                images.image(RepositoryName.of("team-a/r" + r), "t" + t, r + "-" + t);
            }
        }
        retention.put(policy("name: all\nrepositories: ['team-a/**']\nrules: [{keep-last-pushed: 1}]"));
        AtomicInteger asked = new AtomicInteger();
        Cancellation leavesAtTheThirdQuestion = () -> asked.incrementAndGet() >= 3;
        assertThrows(CancellationException.class, () -> retention.dryRun("all", leavesAtTheThirdQuestion));
        assertEquals(3, asked.get(), "no question after the answer that the caller is gone");
        assertThrows(CancellationException.class, () -> retention.run("all", null, () -> true));
        assertEquals(
                4, registry.metadata().tags().count(RepositoryName.of("team-a/r0")), "a cancelled run deletes nothing");
        assertEquals(
                5,
                retention.dryRun("all", Cancellation.NEVER).tags().stream()
                        .filter(t -> t.keep())
                        .count());
    }
}
