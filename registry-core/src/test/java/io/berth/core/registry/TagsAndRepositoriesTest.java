package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.OutboxEvent;
import io.berth.core.metadata.TagChange;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.core.model.DigestPrefix;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.testing.Images;
import io.berth.testsupport.MutableClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TagsAndRepositoriesTest {
    static final RepositoryName APP = RepositoryName.of("team-a/app");
    static final RepositoryName PROD = RepositoryName.of("prod/app");
    static final Caller ADMIN = new Caller("10.0.0.9", "req-42", "", "SetTag", "berth-admin", "", Caller.ADMIN);

    @TempDir
    Path dir;

    MutableClock clock = new MutableClock();
    Registry registry;
    Images images;

    @BeforeEach
    void open() throws IOException {
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db"), clock),
                RegistryOptions.of(Map.of("events.kafka.bootstrap-servers", "127.0.0.1:1")),
                clock);
        images = new Images(registry);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    List<String> names(Tags.TagPage page) {
        return page.tags().stream().map(Tags.TagInfo::name).toList();
    }

    /**
     * Digests as the tables print them: a beginning names the one manifest it begins; none, several, too
     * short or not hex is refused saying so. Two manifests whose digests share their first six hex digits
     * are found by trying annotations (a few thousand hashes: the birthday bound of 24 bits).
     */
    @Test
    void aDigestsBeginningNamesTheOneManifestItBegins() {
        BlobInfo config = images.blob(APP, Images.bytes("{}"));
        Map<String, byte[]> byBeginning = new HashMap<>();
        byte[][] pair = null;
        for (int i = 0; pair == null; i++) {
            byte[] m = Images.bytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                    + "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config.digest()
                    + "\",\"size\":" + config.size() + "},\"layers\":[],\"annotations\":{\"try\":\"" + i + "\"}}");
            byte[] other = byBeginning.putIfAbsent(
                    Digest.compute(DigestAlgorithm.SHA256, m).hex().substring(0, 6), m);
            if (other != null) {
                pair = new byte[][] {other, m};
            }
        }
        Digest a = images.put(APP, null, MediaTypes.OCI_MANIFEST, pair[0]);
        Digest b = images.put(APP, null, MediaTypes.OCI_MANIFEST, pair[1]);
        Manifests manifests = registry.manifests();
        String printed = a.toString().substring(0, "sha256:".length() + 12);
        assertEquals(a, manifests.resolve(APP, DigestPrefix.parse(printed)), "as the tables print it");
        assertEquals(
                a,
                manifests.resolve(
                        APP, DigestPrefix.parse(a.hex().substring(0, 12).toUpperCase())));
        assertEquals(b, manifests.resolve(APP, DigestPrefix.parse(b.toString())), "whole");
        RegistryException ambiguous = assertThrows(
                RegistryException.class,
                () -> manifests.resolve(APP, DigestPrefix.parse(a.hex().substring(0, 6))));
        assertEquals(ErrorCode.INVALID_ARGUMENT, ambiguous.code());
        assertEquals(
                "digest " + a.hex().substring(0, 6) + " is ambiguous in repository team-a/app: it begins 2"
                        + " manifests' digests ("
                        + (a.toString().compareTo(b.toString()) < 0 ? a + ", " + b : b + ", " + a)
                        + "); give more of it",
                ambiguous.getMessage());
        RegistryException unknown =
                assertThrows(RegistryException.class, () -> manifests.resolve(PROD, DigestPrefix.parse(printed)));
        assertEquals(ErrorCode.NOT_FOUND, unknown.code());
        assertEquals("repository prod/app has no manifest whose digest begins with " + printed, unknown.getMessage());
        for (String bad : List.of("sha256:01ab", "md5:0123456789ab", "0123456789xy", "")) {
            assertEquals(
                    ErrorCode.DIGEST_INVALID,
                    assertThrows(RegistryException.class, () -> DigestPrefix.parse(bad))
                            .code(),
                    bad);
        }
        // what the admin API's SetTag does with it
        assertEquals(
                a,
                registry.tags()
                        .set(
                                ADMIN,
                                APP,
                                "by-prefix",
                                manifests.resolve(APP, DigestPrefix.parse(printed)),
                                Optional.empty())
                        .digest());
    }

    @Test
    void tagsListByNameOrPushTimeFilteredByGlobOrRegexPageByPage() {
        for (String t : List.of("v1.0", "v1.1", "v2.0", "latest", "dev-1", "dev-2")) {
            images.image(APP, t, t);
            clock.advance(Duration.ofMinutes(1));
        }
        Tags tags = registry.tags();
        assertEquals(
                List.of("dev-1", "dev-2", "latest", "v1.0", "v1.1", "v2.0"),
                names(tags.list(APP, "", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0)));
        assertEquals(
                List.of("dev-2", "dev-1", "latest", "v2.0", "v1.1", "v1.0"),
                names(tags.list(APP, "", Tags.FilterKind.GLOB, Tags.Order.PUSHED, "", 0)),
                "newest first");
        assertEquals(
                List.of("v1.0", "v1.1"), names(tags.list(APP, "v1.*", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0)));
        assertEquals(
                List.of("dev-1", "v1.0", "v1.1", "v2.0"),
                names(tags.list(APP, "v\\d\\.\\d|dev-1", Tags.FilterKind.REGEX, Tags.Order.NAME, "", 0)));
        // pages of two, by push time, filtered: every tag once, in order
        for (Tags.Order order : Tags.Order.values()) {
            List<String> all = new ArrayList<>();
            String token = "";
            int pages = 0;
            do {
                Tags.TagPage page = tags.list(APP, "*", Tags.FilterKind.GLOB, order, token, 2);
                all.addAll(names(page));
                token = page.nextPageToken();
                pages++;
            } while (!token.isEmpty());
            assertEquals(names(tags.list(APP, "", Tags.FilterKind.GLOB, order, "", 0)), all);
            assertEquals(3, pages);
        }
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> tags.list(APP, "", Tags.FilterKind.GLOB, Tags.Order.PUSHED, "n:v1.0", 2))
                        .code(),
                "a token of another order");
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> tags.list(APP, "(", Tags.FilterKind.REGEX, Tags.Order.NAME, "", 2))
                        .code());
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> tags.list(APP, "", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 5000))
                        .code());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(
                                RegistryException.class,
                                () -> tags.list(
                                        RepositoryName.of("no/such"), "", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0))
                        .code());
    }

    @Test
    void filtersRunInLinearTimeAndAreBounded() {
        // the review's pattern bomb: stars before a character no tag has, against a 60-character tag; as a
        // regular expression (.*){10}! it backtracked for hours. The timeout is only a hang guard.
        String tag = "a".repeat(60);
        images.image(APP, tag, "one");
        images.image(APP, "v1.0", "two");
        Tags tags = registry.tags();
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertEquals(List.of(), names(tags.list(APP, "**********!", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0)));
            assertEquals(
                    List.of(tag),
                    names(tags.list(APP, "*a*a*a*a*a*a*a*a*a*a", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0)));
            assertEquals(List.of(), names(tags.list(APP, "((a+)+)+b", Tags.FilterKind.REGEX, Tags.Order.NAME, "", 0)));
            assertEquals(List.of(), names(tags.list(APP, "(.*){10}!", Tags.FilterKind.REGEX, Tags.Order.NAME, "", 0)));
        });
        assertEquals(List.of("v1.0"), names(tags.list(APP, "v?.?", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0)));
        RegistryException tooLong = assertThrows(
                RegistryException.class,
                () -> tags.list(APP, "*".repeat(257), Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, tooLong.code());
        assertTrue(tooLong.getMessage().contains("at most 256"), tooLong.getMessage());
        RegistryException notRe2 = assertThrows(
                RegistryException.class,
                () -> tags.list(APP, "(?!v).*", Tags.FilterKind.REGEX, Tags.Order.NAME, "", 0));
        assertEquals(ErrorCode.INVALID_ARGUMENT, notRe2.code());
        assertTrue(notRe2.getMessage().contains("RE2 syntax"), notRe2.getMessage());
    }

    @Test
    void aTagListingStopsWhenItsCallerGoesAway() {
        for (int i = 0; i < 20; i++) {
            images.image(APP, "t" + i, "t" + i);
        }
        Tags tags = registry.tags();
        AtomicInteger asked = new AtomicInteger();
        // a filter that matches nothing reads every row; the caller leaves at the fifth question
        assertThrows(
                CancellationException.class,
                () -> tags.list(
                        APP,
                        "nothing",
                        Tags.FilterKind.GLOB,
                        Tags.Order.NAME,
                        "",
                        0,
                        () -> asked.incrementAndGet() >= 5));
        assertEquals(5, asked.get(), "no row read after the caller was known to be gone");
        AtomicInteger staying = new AtomicInteger();
        assertEquals(List.of(), names(tags.list(APP, "nothing", Tags.FilterKind.GLOB, Tags.Order.NAME, "", 0, () -> {
            staying.incrementAndGet();
            return false;
        })));
        assertTrue(staying.get() >= 20, "a caller who stays is asked about every row: " + staying.get());
    }

    @Test
    void aTagShowsItsManifestPlatformsAndTimes() {
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        Digest index = images.index(APP, "multi", amd, arm);
        long pushed = clock.millis();
        clock.advance(Duration.ofMinutes(5));
        registry.manifests().get(APP, new Tag("multi"));
        registry.flushPulls();
        Tags.TagInfo t = registry.tags().get(APP, "multi");
        assertEquals(index, t.digest());
        assertEquals(MediaTypes.OCI_INDEX, t.mediaType());
        assertEquals(List.of("linux/amd64", "linux/arm64"), t.platforms());
        assertEquals(pushed, t.pushedAt());
        assertEquals(pushed + Duration.ofMinutes(5).toMillis(), t.lastPulledAt().orElseThrow());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> registry.tags().get(APP, "nope"))
                        .code());
    }

    @Test
    void setMovesAndPromotesIntoAnotherRepositoryWithTheSameRulesAndEvents() {
        Digest one = images.image(APP, "v1", "one");
        Digest two = images.image(APP, "v2", "two");
        int before = registry.metadata().outbox().pending(1000).size();

        Tags.TagInfo moved = registry.tags().set(ADMIN, APP, "stable", one, Optional.empty());
        assertEquals(one, moved.digest());
        registry.tags().set(ADMIN, APP, "stable", two, Optional.empty());
        assertEquals(two, registry.metadata().tags().target(APP, "stable").orElseThrow());

        // promotion of an index: children copied, blobs mounted, nothing pushed twice over HTTP
        Digest amd = images.image(APP, null, "amd");
        Digest arm = images.image(APP, null, "arm");
        Digest index = images.index(APP, "multi", amd, arm);
        registry.tags().set(ADMIN, PROD, "1.0", index, Optional.of(APP));
        assertEquals(index, registry.metadata().tags().target(PROD, "1.0").orElseThrow());
        assertTrue(registry.metadata().manifests().exists(PROD, amd)
                && registry.metadata().manifests().exists(PROD, arm));
        var layer = registry.metadata().manifests().summaries(PROD, null, 10, false);
        assertEquals(3, layer.size());
        registry.manifests().get(PROD, amd);
        assertTrue(registry.metadata().manifests().get(PROD, amd).isPresent());

        List<String> types = new ArrayList<>();
        for (OutboxEvent e : registry.metadata()
                .outbox()
                .pending(1000)
                .subList(before, registry.metadata().outbox().pending(1000).size())) {
            types.add(e.type().substring("io.berth.".length()) + " " + e.repository());
        }
        assertTrue(
                types.containsAll(List.of(
                        "tag.created team-a/app",
                        "tag.moved team-a/app",
                        "blob.mounted prod/app",
                        "manifest.pushed prod/app",
                        "tag.created prod/app")),
                types.toString());

        List<TagChange> history = registry.tags().history(APP, "stable");
        assertEquals(
                List.of(TagChange.Action.CREATED, TagChange.Action.MOVED),
                history.stream().map(TagChange::action).toList());
        assertEquals("admin", history.get(0).origin().via());
        assertEquals("req-42", history.get(0).origin().requestId());
        assertEquals("v2", registry.tags().history(APP, "v1").get(0).origin().via());

        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(
                                RegistryException.class,
                                () -> registry.tags()
                                        .set(
                                                ADMIN,
                                                APP,
                                                "x",
                                                Digest.compute(DigestAlgorithm.SHA256, Images.bytes("none")),
                                                Optional.empty()))
                        .code());
    }

    @Test
    void historyRestoresAVersionOrTheTagAtATime() {
        Digest one = images.image(APP, "app", "one");
        long atOne = clock.millis();
        clock.advance(Duration.ofHours(1));
        Digest two = images.image(APP, "app", "two");
        clock.advance(Duration.ofHours(1));
        registry.tags().delete(ADMIN, APP, "app");
        clock.advance(Duration.ofHours(1));

        assertEquals(3, registry.tags().history(APP, "app").size());
        assertEquals(two, registry.tags().restore(ADMIN, APP, "app", 2, 0).digest());
        assertEquals(
                one, registry.tags().restore(ADMIN, APP, "app", 0, atOne + 1000).digest());
        List<TagChange> h = registry.tags().history(APP, "app");
        assertEquals(
                List.of(
                        TagChange.Action.CREATED,
                        TagChange.Action.MOVED,
                        TagChange.Action.DELETED,
                        TagChange.Action.CREATED,
                        TagChange.Action.MOVED),
                h.stream().map(TagChange::action).toList());

        assertEquals(
                ErrorCode.FAILED_PRECONDITION,
                assertThrows(RegistryException.class, () -> registry.tags().restore(ADMIN, APP, "app", 3, 0))
                        .code(),
                "version 3 is the deletion");
        registry.manifests().delete(APP, two);
        RegistryException gone =
                assertThrows(RegistryException.class, () -> registry.tags().restore(ADMIN, APP, "app", 2, 0));
        assertEquals(ErrorCode.FAILED_PRECONDITION, gone.code());
        assertTrue(gone.getMessage().contains("no longer holds"), gone.getMessage());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> registry.tags().restore(ADMIN, APP, "app", 99, 0))
                        .code());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> registry.tags().restore(ADMIN, APP, "app", 0, atOne - 1000))
                        .code(),
                "before the tag existed");
    }

    @Test
    void repositoriesListWithStatsAndDeleteWithEverythingInThem() {
        images.image(APP, "v1", "one");
        Digest untagged = images.image(APP, null, "two");
        images.image(RepositoryName.of("team-a/other"), "v1", "one"); // shares blobs with APP
        images.image(RepositoryName.of("team-b/app"), "v1", "three");

        Repositories repos = registry.repositories();
        assertEquals(
                List.of("team-a/app", "team-a/other"),
                repos.list("team-a/", "", 0).repositories().stream()
                        .map(r -> r.name().value())
                        .toList());
        Repositories.RepositoryPage first = repos.list("", "", 2);
        assertEquals(2, first.repositories().size());
        assertEquals(
                List.of("team-b/app"),
                repos.list("", first.nextPageToken(), 2).repositories().stream()
                        .map(r -> r.name().value())
                        .toList());

        var stats = repos.get(APP).stats();
        assertEquals(1, stats.tags());
        assertEquals(2, stats.manifests());
        assertTrue(stats.uniqueSize() < stats.totalSize(), "its first image's blobs are shared: " + stats);
        assertEquals(clock.millis(), stats.lastPushAt().orElseThrow());
        assertTrue(stats.lastPullAt().isEmpty());

        var untaggedOnly = repos.manifests(APP, true, "", 0).manifests();
        assertEquals(
                List.of(untagged),
                untaggedOnly.stream().map(m -> m.manifest().digest()).toList());
        assertEquals(2, repos.manifests(APP, false, "", 0).manifests().size());

        repos.delete(ADMIN, APP);
        assertFalse(registry.metadata().repositories().exists(APP));
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> repos.get(APP)).code());
        assertEquals(
                TagChange.Action.DELETED,
                registry.tags().history(APP, "v1").get(1).action(),
                "the history outlives the repository");
        OutboxEvent last = registry.metadata().outbox().pending(1000).getLast();
        assertEquals("io.berth.repository.deleted", last.type());
        assertEquals("team-a/app", last.repository());
        assertTrue(registry.metadata().repositories().exists(RepositoryName.of("team-a/other")));
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(RegistryException.class, () -> repos.delete(ADMIN, APP))
                        .code());
    }
}
