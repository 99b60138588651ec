package io.berth.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * {@link Glob} against a reference written from the definition alone — recursive over components and
 * then over characters, trying every way a {@code **} or a {@code *} can split the rest (exponential,
 * obviously right, fine for short inputs) — over random globs and names from a small alphabet, so
 * that near misses ({@code ax} for {@code x}, {@code a/bx} for {@code **}/{@code x}) are common.
 */
class GlobPropertiesTest {
    @Property(tries = 5000)
    void matchesLikeTheDefinition(@ForAll("globs") String glob, @ForAll("names") String name) {
        boolean expected = reference(Glob.components(glob), Glob.components(name));
        Statistics.collect(expected ? "match" : "no match");
        // both answers are common, so that neither half of the comparison is vacuous
        Statistics.coverage(c -> {
            c.check("match").percentage(p -> p > 10);
            c.check("no match").percentage(p -> p > 10);
        });
        assertEquals(expected, Glob.of(glob).matches(name), glob + " ~ " + name);
    }

    @Property(tries = 2000)
    void matchesRepositoryNamesLikeTheDefinition(@ForAll("globs") String glob, @ForAll("repositories") String name) {
        boolean expected = reference(Glob.components(glob), Glob.components(name));
        Statistics.collect(expected ? "match" : "no match");
        // both answers are common, so that neither half of the comparison is vacuous
        Statistics.coverage(c -> {
            c.check("match").percentage(p -> p > 10);
            c.check("no match").percentage(p -> p > 10);
        });
        assertEquals(expected, Glob.of(glob).matches(name), glob + " ~ " + name);
    }

    @Provide
    Arbitrary<String> globs() {
        Arbitrary<String> component = Arbitraries.oneOf(
                Arbitraries.just("**"),
                Arbitraries.strings().withChars("ab*?").ofMinLength(0).ofMaxLength(4),
                Arbitraries.strings().withChars("ab").ofMinLength(1).ofMaxLength(2));
        return component
                .list()
                .ofMinSize(1)
                .ofMaxSize(4)
                .map(l -> String.join("/", l))
                .filter(s -> !s.isEmpty());
    }

    /** Any string over the alphabet and '/': empty components and all. */
    @Provide
    Arbitrary<String> names() {
        return Arbitraries.strings().withChars("ab/").ofMinLength(0).ofMaxLength(9);
    }

    /** Names as repositories have them: one to five non-empty components. */
    @Provide
    Arbitrary<String> repositories() {
        return Arbitraries.strings()
                .withChars("ab")
                .ofMinLength(1)
                .ofMaxLength(3)
                .list()
                .ofMinSize(1)
                .ofMaxSize(5)
                .map(l -> String.join("/", l));
    }

    /** The definition: {@code **} is zero or more whole components, one or more when last after others. */
    static boolean reference(List<String> glob, List<String> name) {
        if (glob.isEmpty()) {
            return name.isEmpty();
        }
        String first = glob.get(0);
        List<String> rest = glob.subList(1, glob.size());
        if (first.equals("**")) {
            if (rest.isEmpty()) {
                return !name.isEmpty();
            }
            for (int skip = 0; skip <= name.size(); skip++) {
                if (reference(rest, name.subList(skip, name.size()))) {
                    return true;
                }
            }
            return false;
        }
        return !name.isEmpty() && component(first, name.get(0)) && reference(rest, name.subList(1, name.size()));
    }

    /** Within a component: {@code *} any run of characters, {@code ?} one, the rest itself. */
    static boolean component(String glob, String s) {
        if (glob.isEmpty()) {
            return s.isEmpty();
        }
        char c = glob.charAt(0);
        if (c == '*') {
            return component(glob.substring(1), s) || !s.isEmpty() && component(glob, s.substring(1));
        }
        return !s.isEmpty() && (c == '?' || c == s.charAt(0)) && component(glob.substring(1), s.substring(1));
    }
}
