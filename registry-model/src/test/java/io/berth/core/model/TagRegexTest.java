package io.berth.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TagRegexTest {
    @ParameterizedTest(name = "{0} ~ {1}: {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "v\\d+\\.\\d+\\.\\d+|v1.2.3|true",
                "v\\d+\\.\\d+\\.\\d+|v1.2.3-rc1|false", // the whole tag
                "release-.*|release-2026|true",
                "release-.*|prerelease-2026|false",
                "(?i)LATEST|latest|true",
                "[0-9a-f]{7,40}|0123abc|true",
                "[[:alpha:]]+|abc|true",
                "\\p{L}+_x|abc_x|true",
                "\\Q1.0\\E|1.0|true",
                "\\Q1.0\\E|1x0|false",
                "a{,3}|a{,3}|true", // RE2: not a repetition, literal braces
            })
    void matchesTheWholeTagInRe2Syntax(String regex, String tag, boolean matches) {
        assertEquals(matches, TagRegex.of(regex).matches(tag));
    }

    @Test
    void catastrophicBacktrackingExpressionsRunInLinearTime() {
        // java.util.regex memoizes (a+)+ since JDK 9, but the nested and counted ones keep it busy for longer
        // than anyone waits (24 a's: 3 s, 5 s, 0.7 s here); the timeout is only a hang guard
        String evil = "a".repeat(127) + "-";
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertFalse(TagRegex.of("(a+)+").matches(evil));
            assertFalse(TagRegex.of("((a+)+)+").matches(evil));
            assertFalse(TagRegex.of("(.*a){12}").matches(evil));
            assertFalse(TagRegex.of("(a|aa)+").matches(evil));
            assertFalse(TagRegex.of("(a*)*b").matches(evil));
            assertFalse(TagRegex.of("(?:.*a){20}b").matches(evil));
            assertFalse(TagRegex.of("(?:a?){300}a{300}").matches(evil));
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"(?!rc)", "(?<=v)1", "(a)\\1", "a*+", "(?>a)", "v(1", "[z-a]", "a**"})
    void whatRe2CannotRunIsRefusedSayingSo(String regex) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TagRegex.of(regex));
        assertTrue(e.getMessage().startsWith("is not a regular expression in RE2 syntax"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "(a{1000}){1000}",
                "((a{1000}){1000}){1000}",
                "(?:(?:(?:(?:a{10}){10}){10}){10}){10}",
                "[a-z]{1000}[0-9]{1000}",
                "(?:x{1000}y){2}"
            })
    void programsTooLargeToRunCheaplyAreRefusedBeforeTheyAreCompiled(String regex) {
        // the two first compile to 1e6 and 1e9 instructions: 94 MB, and more than any heap
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TagRegex.of(regex));
        assertTrue(e.getMessage().startsWith("would compile to about "), e.getMessage());
        assertTrue(e.getMessage().contains("at most " + TagRegex.MAX_SIZE), e.getMessage());
    }

    @Test
    void lengthIsBounded() {
        TagRegex.of("a".repeat(TagRegex.MAX_SIZE - 1));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TagRegex.of("(?:a|b)".repeat(TagRegex.MAX_LENGTH / 7 + 1)));
        assertTrue(e.getMessage().contains("at most " + TagRegex.MAX_LENGTH + " are allowed"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TagRegex.of(""));
    }

    @Test
    void anArgumentIsRefusedAsInvalidNamingTheField() {
        RegistryException e = assertThrows(RegistryException.class, () -> TagRegex.argument("filter", "(?!x)"));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(
                e.getMessage().startsWith("filter '(?!x)' is not a regular expression in RE2 syntax"), e.getMessage());
        assertEquals("(?!x)", e.detail().get("filter"));
    }

    /**
     * The estimate bounds what it guards: for random expressions RE2/J accepts, it is never below the
     * number of instructions RE2/J compiles them to (read from its program, in this test only) but for
     * the two every program has (match and fail).
     */
    @Property(tries = 1500)
    void theSizeEstimateIsAnUpperBoundOfRe2jsProgram(@ForAll("regexes") String regex) throws Exception {
        long estimate = TagRegex.estimatedSize(regex);
        // far above the limit an expression is refused anyway; compiling it would only take the time
        Assume.that(estimate <= 2L * TagRegex.MAX_SIZE);
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            return; // RE2 refuses it itself
        }
        int actual = instructions(p);
        assertTrue(estimate + 2 >= actual, regex + ": estimated " + estimate + ", compiled to " + actual);
    }

    /** Cases the property found once; kept so that they are tried on every run, not only when drawn again. */
    @ParameterizedTest
    @ValueSource(strings = {"\\Qab\\E{0}", "\\Qabc\\E{3}", "\\Qab\\E*", "(\\Qab\\E){2}"})
    void foundCounterexamplesStayBounded(String regex) throws Exception {
        int actual = instructions(Pattern.compile(regex));
        long estimate = TagRegex.estimatedSize(regex);
        assertTrue(estimate + 2 >= actual, regex + ": estimated " + estimate + ", compiled to " + actual);
    }

    @Provide
    Arbitrary<String> regexes() {
        return expression(3);
    }

    private static Arbitrary<String> expression(int depth) {
        Arbitrary<String> atom = depth == 0
                ? Arbitraries.of(
                        "a",
                        "b",
                        ".",
                        "[ab]",
                        "[^a]",
                        "\\d",
                        "\\pL",
                        "\\x41",
                        "\\Qab\\E",
                        "(?i)a",
                        "^",
                        "$",
                        "{",
                        "[[:alpha:]]",
                        "\\{")
                : Arbitraries.oneOf(
                        expression(0),
                        expression(depth - 1).list().ofMinSize(1).ofMaxSize(3).map(l -> "(" + String.join("", l) + ")"),
                        expression(depth - 1)
                                .list()
                                .ofMinSize(1)
                                .ofMaxSize(3)
                                .map(l -> "(?:" + String.join("|", l) + ")"),
                        expression(depth - 1).map(e -> "(?P<n>" + e + ")"));
        Arbitrary<String> quantifier = Arbitraries.oneOf(
                Arbitraries.of("", "", "*", "+", "?", "*?", "+?"),
                Arbitraries.integers().between(0, 6).map(n -> "{" + n + "}"),
                Arbitraries.integers().between(0, 6).map(n -> "{" + n + ",}"),
                Arbitraries.integers()
                        .between(0, 6)
                        .flatMap(n -> Arbitraries.integers().between(n, 8).map(m -> "{" + n + "," + m + "}")));
        return net.jqwik.api.Combinators.combine(atom, quantifier)
                .as((a, q) -> a + q)
                .list()
                .ofMinSize(1)
                .ofMaxSize(4)
                .map(l -> String.join("", l));
    }

    private static int instructions(Pattern p) throws Exception {
        Field re2 = Pattern.class.getDeclaredField("re2");
        re2.setAccessible(true);
        Object r = re2.get(p);
        Field prog = r.getClass().getDeclaredField("prog");
        prog.setAccessible(true);
        Object program = prog.get(r);
        Method n = program.getClass().getDeclaredMethod("numInst");
        n.setAccessible(true);
        return (Integer) n.invoke(program);
    }
}
