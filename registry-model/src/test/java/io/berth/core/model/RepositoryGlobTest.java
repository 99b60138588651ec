package io.berth.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RepositoryGlobTest {
    @ParameterizedTest(name = "{0} ~ {1}: {2}")
    @CsvSource({
        "team-a/**, team-a/app, true",
        "team-a/**, team-a/x/y/z, true",
        "team-a/**, team-ab/app, false",
        "team-a/**, team-a, false",
        "team-a/*, team-a/app, true",
        "team-a/*, team-a/x/app, false",
        "library/ubuntu, library/ubuntu, true",
        "library/ubuntu, library/ubuntu2, false",
        "library/ubuntu, xlibrary/ubuntu, false",
        "**/app, team-a/app, true",
        "**/app, app, true",
        "**/app, a/b/c/app, true",
        "a/**/b, a/b, true",
        "a/**/b, a/x/y/b, true",
        "a/**/b, a/x/c, false",
        "*, app, true",
        "*, team/app, false",
        "**, app, true",
        "**, a/b/c, true",
        "a.b/c, a.b/c, true",
        "a.b/c, axb/c, false",
        "team-*/app, team-a/app, true",
        "team-*/app, team-a/x/app, false",
        "*-a/**, team-a/x, true",
        // the review's findings: ** stands for whole components, never part of one
        "**/public, private/notpublic, false",
        "**/public, public, true",
        "**/public, private/public, true",
        "**/public, publicity, false",
        "**/app, team-a/webapp, false",
        "**/app, webapp, false",
        "**/x, ax, false",
        "**/x, a/bx, false",
        "**/x, x/a, false",
        "a/**/b, a/xb, false",
        "a/**/b, ab, false",
        "a/**/b, a/b/c, false",
        "a/**, ab/c, false",
        // within a component ** is one *
        "a**, ab, true",
        "a**, a/b, false",
    })
    void matchesLikeOperatorsExpect(String glob, String repository, boolean matches) {
        assertEquals(matches, RepositoryGlob.of(glob).matches(repository));
    }

    @ParameterizedTest
    @CsvSource({"anything/at/all, true"})
    void anEmptyListMatchesEverything(String repository, boolean matches) {
        assertEquals(matches, RepositoryGlob.anyMatches(List.of(), repository));
        assertEquals(false, RepositoryGlob.anyMatches(List.of(RepositoryGlob.of("other/*")), repository));
        assertEquals(
                true,
                RepositoryGlob.anyMatches(
                        List.of(RepositoryGlob.of("other/*"), RepositoryGlob.of("anything/**")), repository));
    }

    @Test
    void theAdminActionsRepositoryStarIsMatchedByStarGlobsOnly() {
        // the admin API checks the admin action on the repository "*" (docs/access.md)
        assertTrue(RepositoryGlob.of("*").matches("*"));
        assertTrue(RepositoryGlob.of("**").matches("*"));
        assertFalse(RepositoryGlob.of("team-a/**").matches("*"));
        assertFalse(RepositoryGlob.of("**/app").matches("*"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/a", "a/", "a//b", "**/", "Team/a", "a b", "a?", "a\\b", "a[b]", "é"})
    void whatNoRepositoryNameHoldsIsRefusedSayingWhy(String glob) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepositoryGlob.of(glob));
        assertTrue(e.getMessage().contains("glob"), e.getMessage());
    }

    @Test
    void longGlobsAreRefused() {
        RepositoryGlob.of("a".repeat(Glob.MAX_LENGTH));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> RepositoryGlob.of("a".repeat(Glob.MAX_LENGTH + 1)));
        assertTrue(e.getMessage().contains("at most " + Glob.MAX_LENGTH), e.getMessage());
    }

    @Test
    void storedGlobsAreReadWithTodaysMeaningAndNeverRefused() {
        // "**/" passed the old checks; it matched everything then, and matches nothing now
        assertFalse(RepositoryGlob.stored("**/").matches("team-a/app"));
        assertTrue(RepositoryGlob.stored("team-a/**").matches("team-a/app"));
        assertFalse(RepositoryGlob.stored("**/app").matches("team-a/webapp"));
        assertTrue(RepositoryGlob.stored("x".repeat(1000)).matches("x".repeat(1000)));
    }

    @Test
    void patternBombsMatchPromptly() {
        // nested .* made the old regular expression take exponential time on exactly these;
        // the timeout only guards against a hang (the old code ran for hours), it measures nothing
        String name = "a".repeat(60) + "/" + "a".repeat(60) + "/" + "a".repeat(60) + "/" + "a".repeat(60);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertFalse(RepositoryGlob.of("**/".repeat(40) + "*a*a*a*a*a*a*a*a*a*a*b")
                    .matches(name));
            assertFalse(RepositoryGlob.of("*".repeat(200) + "b").matches(name));
            assertFalse(RepositoryGlob.of("**/*a*a*a*a*a*a/**/*a*a*a*a*a*b/**").matches(name));
            assertFalse(Glob.of("**********!").matches("a".repeat(60)));
        });
    }
}
