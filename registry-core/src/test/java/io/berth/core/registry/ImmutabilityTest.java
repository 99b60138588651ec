package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ImmutabilityRuleRecord;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.model.TagRegex;
import io.berth.core.testing.Images;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImmutabilityTest {
    static final RepositoryName PROD = RepositoryName.of("team-a/prod/app");
    static final RepositoryName DEV = RepositoryName.of("team-a/dev/app");

    @TempDir
    Path dir;

    Registry registry;
    Images images;

    @BeforeEach
    void open() throws IOException {
        registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")),
                RegistryOptions.defaults());
        images = new Images(registry);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    static RegistryException refused(Runnable r) {
        RegistryException e = assertThrows(RegistryException.class, r::run);
        assertEquals(ErrorCode.IMMUTABLE, e.code(), e.getMessage());
        return e;
    }

    @Test
    void aProtectedTagIsPushedOnceAndThenNeitherMovedNorDeletedByAnyPath() {
        Immutability.Rule rule = registry.immutability().add("team-a/prod/**", "v[0-9]+\\.[0-9]+\\.[0-9]+");
        Digest one = images.image(PROD, "v1.0.0", "one");
        Digest two = images.image(PROD, null, "two");
        images.image(PROD, "v1.0.0", "one"); // the same manifest again: no change, allowed

        RegistryException e = refused(() -> images.image(PROD, "v1.0.0", "two"));
        assertTrue(e.getMessage().contains(rule.id()) && e.getMessage().contains("cannot be moved"), e.getMessage());
        refused(() -> registry.manifests().delete(PROD, new Tag("v1.0.0")));
        refused(() -> registry.manifests().delete(PROD, one));
        refused(() -> registry.tags().set(Caller.at("admin"), PROD, "v1.0.0", two, Optional.empty()));
        refused(() -> registry.tags().delete(Caller.at("admin"), PROD, "v1.0.0"));
        refused(() -> registry.repositories().delete(Caller.at("admin"), PROD));
        assertEquals(one, registry.metadata().tags().target(PROD, "v1.0.0").orElseThrow());

        // not protected: another tag, another repository
        images.image(PROD, "latest", "one");
        images.image(PROD, "latest", "two");
        registry.manifests().delete(PROD, new Tag("latest"));
        images.image(DEV, "v1.0.0", "one");
        images.image(DEV, "v1.0.0", "two");
        registry.manifests().delete(DEV, new Tag("v1.0.0"));

        // the rule gone, the tag can move again
        registry.immutability().delete(rule.id());
        images.image(PROD, "v1.0.0", "two");
        assertEquals(two, registry.metadata().tags().target(PROD, "v1.0.0").orElseThrow());
    }

    @Test
    void rulesAreListedValidatedAndDeletedById() {
        Immutability.Rule a = registry.immutability().add("**", "release-.*");
        Immutability.Rule b = registry.immutability().add("team-b/*", "stable");
        assertEquals(List.of(a, b), registry.immutability().list());
        RegistryException bad = assertThrows(
                RegistryException.class, () -> registry.immutability().add("**", "v(1"));
        assertEquals(ErrorCode.INVALID_ARGUMENT, bad.code());
        assertTrue(bad.getMessage().contains("'v(1' is not a regular expression"), bad.getMessage());
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> registry.immutability().add("Team A", "x"))
                        .code());
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                assertThrows(
                                RegistryException.class,
                                () -> registry.immutability().add("**", ""))
                        .code());
        registry.immutability().delete(a.id());
        assertEquals(List.of(b), registry.immutability().list());
        assertEquals(
                ErrorCode.NOT_FOUND,
                assertThrows(
                                RegistryException.class,
                                () -> registry.immutability().delete(a.id()))
                        .code());
    }

    @Test
    void aCatastrophicJavaRegexIsEvaluatedInLinearTimeOnEveryTagPush() {
        // ((a+)+)+ against a run of a's and one more character backtracks exponentially in java.util.regex
        // (24 a's take it 3 s here; it memoizes (a+)+, not this): each push of such a tag pinned a core for
        // good. The timeout is only a hang guard; the assertions are about the answers.
        Immutability.Rule rule = registry.immutability().add("**", "((a+)+)+");
        String evil = "a".repeat(60) + "-";
        // the check a push makes, outside the push's transaction (where a spinning check would block the
        // store for good, and this test with it)
        assertEquals(
                Optional.empty(),
                assertTimeoutPreemptively(
                        Duration.ofSeconds(30), () -> Immutability.protecting(registry.metadata(), PROD, evil)));
        images.image(PROD, evil, "one");
        images.image(PROD, evil, "two"); // not protected: it may move
        registry.manifests().delete(PROD, new Tag(evil));
        images.image(PROD, "aaaa", "one");
        RegistryException e = refused(() -> images.image(PROD, "aaaa", "two"));
        assertTrue(e.getMessage().contains(rule.id()), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "(?!rc).*| is not a regular expression in RE2 syntax",
                "(v)\\1| is not a regular expression in RE2 syntax",
                "a++| is not a regular expression in RE2 syntax",
                "(a{1000}){1000}| would compile to about",
                "((a{1000}){1000}){1000}| would compile to about more than a billion instructions",
                "(?:a?){600}a{600}| would compile to about 1800 instructions; at most 1000 are allowed",
            })
    void expressionsRe2CannotRunInLinearTimeAndSpaceAreRefusedWhenGiven(String regex, String why) {
        RegistryException bad = assertThrows(
                RegistryException.class, () -> registry.immutability().add("**", regex));
        assertEquals(ErrorCode.INVALID_ARGUMENT, bad.code());
        assertTrue(bad.getMessage().startsWith("tags '" + regex + "' " + why), bad.getMessage());
        assertEquals(List.of(), registry.immutability().list());
    }

    @Test
    void patternsAreBoundedInLength() {
        String longest = "v" + "[0-9]".repeat((TagRegex.MAX_LENGTH - 1) / 5);
        registry.immutability().add("**", longest);
        RegistryException bad = assertThrows(
                RegistryException.class,
                () -> registry.immutability().add("**", "v" + "x".repeat(TagRegex.MAX_LENGTH)));
        assertTrue(bad.getMessage().contains("at most " + TagRegex.MAX_LENGTH), bad.getMessage());
        bad = assertThrows(
                RegistryException.class, () -> registry.immutability().add("a/".repeat(200) + "b", "x"));
        assertEquals(ErrorCode.INVALID_ARGUMENT, bad.code());
        assertTrue(bad.getMessage().contains("at most 256"), bad.getMessage());
    }

    @Test
    void repositoryGlobsStandForWholeComponents() {
        registry.immutability().add("**/app", "v1");
        images.image(RepositoryName.of("team-a/webapp"), "v1", "one");
        images.image(RepositoryName.of("team-a/webapp"), "v1", "two"); // not team-a/app: not protected
        images.image(DEV, "v1", "one");
        refused(() -> images.image(DEV, "v1", "two"));
        RegistryException bad = assertThrows(
                RegistryException.class, () -> registry.immutability().add("**/", "v1"));
        assertTrue(bad.getMessage().contains("empty component"), bad.getMessage());
    }

    @Test
    void aStoredRuleRe2RefusesProtectsEveryTagOfItsRepositoriesUntilReplaced() {
        // rules were Java regular expressions before; one using look-ahead fails closed, saying why
        registry.metadata().inTransaction(tx -> {
            tx.immutability().insert(new ImmutabilityRuleRecord("legacy", "team-a/prod/**", "(?!dev-).*", 1L));
            return null;
        });
        images.image(PROD, "dev-1", "one");
        RegistryException e = refused(() -> images.image(PROD, "dev-1", "two"));
        assertTrue(e.getMessage().contains("legacy") && e.getMessage().contains("not RE2 syntax"), e.getMessage());
        images.image(DEV, "dev-1", "one");
        images.image(DEV, "dev-1", "two"); // other repositories are not concerned
        registry.immutability().delete("legacy");
        images.image(PROD, "dev-1", "two");
    }
}
