package io.berth.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
            "a/**/b, a/b, true",
            "a/**/b, a/x/y/b, true",
            "a/**/b, a/x/c, false",
            "*, app, true",
            "*, team/app, false",
            "a.b/c, a.b/c, true",
            "a.b/c, axb/c, false",
    })
    void matchesLikeOperatorsExpect(String glob, String repository, boolean matches) {
        assertEquals(matches, RepositoryGlob.of(glob).matches(repository));
    }

    @ParameterizedTest
    @CsvSource({"anything/at/all, true"})
    void anEmptyListMatchesEverything(String repository, boolean matches) {
        assertEquals(matches, RepositoryGlob.anyMatches(List.of(), repository));
        assertEquals(false, RepositoryGlob.anyMatches(List.of(RepositoryGlob.of("other/*")), repository));
        assertEquals(true, RepositoryGlob.anyMatches(List.of(RepositoryGlob.of("other/*"),
                RepositoryGlob.of("anything/**")), repository));
    }
}
