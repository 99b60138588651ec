package io.berth.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The parser on a small tree of its own, apart from Berth's commands (whose every reading is pinned
 * by {@code ParserTranscriptTest} and whose help by {@code HelpGoldenTest}): what a command receives,
 * how a mistake reads, and the two readings that differ from picocli's on purpose.
 */
class CliTest {
    static final Option SERVER =
            Option.value("HOST:PORT", "Where.", "--server").defaultValue("h:1").inherited();
    static final Option JSON = Option.flag("As JSON.", "--json").inherited();
    static final Option LIMIT = Option.value("N", "How many.", "-n", "--limit").number();
    static final Option ACTIONS =
            Option.value("ACTION", "Actions.", "--actions").list(",");
    static final Positional REPO = Positional.of("REPO", "The repository.");

    /** What the leaf ran with, one entry per run. */
    final List<Args> ran = new ArrayList<>();

    Command tree() {
        Command list = Command.named("list")
                .description("List.")
                .standardHelp()
                .options(LIMIT, ACTIONS)
                .positional(REPO)
                .runs(a -> {
                    ran.add(a);
                    if ("bad".equals(a.value(REPO))) {
                        throw new UsageError("REPO may not be 'bad'");
                    }
                    return 0;
                });
        Command tags = Command.named("tags").description("Tags.").standardHelp().subcommand(list);
        return Command.named("tool")
                .description("A tool.")
                .standardHelp()
                .version("tool 1")
                .options(SERVER, JSON)
                .subcommand(tags);
    }

    record Run(int exit, String out, String err) {}

    Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new Cli(
                        tree(),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8),
                        () -> false)
                .run(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void optionsReachTheLeafWhereverTheyStand() {
        assertEquals(
                0,
                run("--server", "a:2", "tags", "list", "-n", "5", "app", "--actions", "x,y", "--actions=z")
                        .exit());
        Args a = ran.getLast();
        assertEquals("a:2", a.value(SERVER));
        assertEquals(5L, a.number(LIMIT));
        assertEquals(List.of("x", "y", "z"), a.values(ACTIONS));
        assertEquals("app", a.value(REPO));
        assertEquals("tool tags list", a.command());

        assertEquals(0, run("tags", "list", "app", "--server=b:3", "--json").exit());
        assertEquals("b:3", ran.getLast().value(SERVER), "an inherited option after the subcommand");
        assertTrue(ran.getLast().isSet(JSON));
        assertEquals(0, run("tags", "list", "app").exit());
        assertEquals("h:1", ran.getLast().value(SERVER), "the default");
        assertEquals(null, ran.getLast().number(LIMIT));
    }

    @Test
    void aSwitchGivenTwiceIsStillOn() {
        // picocli read "--json … --json" (inherited, once above and once below the subcommand) as off
        assertEquals(0, run("--json", "tags", "list", "app", "--json").exit());
        assertTrue(ran.getLast().isSet(JSON));
    }

    @Test
    void aSwitchGivenTwiceIsStillOnForTls() {
        // the same rule for every inherited switch: "admin --tls info --tls" connected in plain text
        // under picocli, and now uses TLS
        Option tls = Option.flag("TLS.", "--tls").inherited();
        Command leaf = Command.named("info").description("Info.").standardHelp().runs(a -> {
            ran.add(a);
            return 0;
        });
        Command root = Command.named("tool")
                .description("A tool.")
                .standardHelp()
                .options(tls)
                .subcommand(leaf);
        PrintStream none = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, new Cli(root, none, none, () -> false).run("--tls", "info", "--tls"));
        assertTrue(ran.getLast().isSet(tls));
    }

    @Test
    void aValueAfterEqualsIsTakenAsGiven() {
        // a token or a filter may begin with '-', even "-h": after '=' it is the value, never an option
        assertEquals(
                0,
                run("tags", "list", "app", "--server=-hQ3x", "--actions=-V,--help")
                        .exit());
        assertEquals("-hQ3x", ran.getLast().value(SERVER));
        assertEquals(List.of("-V", "--help"), ran.getLast().values(ACTIONS));
        // as the next word it is still an option, as before
        assertEquals(
                Cli.EXIT_USAGE, run("tags", "list", "app", "--server", "-h").exit());
    }

    @Test
    void emptyListItemsAreKeptForTheCommandToRefuse() {
        // "pull," is "pull" and "": dropped, the empty item would no longer be refused by the server
        assertEquals(0, run("tags", "list", "app", "--actions", "x,").exit());
        assertEquals(List.of("x", ""), ran.getLast().values(ACTIONS));
        assertEquals(0, run("tags", "list", "app", "--actions", ",").exit());
        assertEquals(List.of("", ""), ran.getLast().values(ACTIONS));
    }

    @Test
    void doubleDashEndsTheOptions() {
        assertEquals(0, run("tags", "list", "--", "-x").exit());
        assertEquals("-x", ran.getLast().value(REPO));
    }

    @Test
    void aMistakeIsTwoLinesOnStandardErrorAndExitCodeTwo() {
        Run unknown = run("tags", "list", "app", "--bogus");
        assertEquals(Cli.EXIT_USAGE, unknown.exit());
        assertEquals("", unknown.out());
        assertEquals(2, unknown.err().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("tool: ") && unknown.err().contains("--bogus"), unknown.err());
        assertTrue(unknown.err().endsWith("see 'tool tags list --help'\n"), unknown.err());

        Run missing = run("tags", "list");
        assertEquals(Cli.EXIT_USAGE, missing.exit());
        assertTrue(missing.err().contains("REPO"), missing.err());

        Run notANumber = run("tags", "list", "app", "--limit", "many");
        assertEquals(Cli.EXIT_USAGE, notANumber.exit());
        assertTrue(notANumber.err().contains("many"), notANumber.err());
        assertTrue(ran.isEmpty(), "nothing ran on a mistake");
    }

    @Test
    void aMistakeFoundByTheCommandReadsLikeTheParsers() {
        Run r = run("tags", "list", "bad");
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertEquals("tool: REPO may not be 'bad'\nsee 'tool tags list --help'\n", r.err());
    }

    @Test
    void aGroupNamedAloneShowsItsHelpOnStandardError() {
        // picocli did the same in bin/berth; the old golden missed it (it wrote past the captured stream)
        Run r = run("tags");
        assertEquals(Cli.EXIT_USAGE, r.exit());
        assertEquals("", r.out());
        assertEquals(run("tags", "--help").out(), r.err());
        assertTrue(r.err().startsWith("Usage: tool tags "), r.err());
    }

    @Test
    void helpAndVersionGoToStandardOutput() {
        Run help = run("tags", "list", "-h");
        assertEquals(0, help.exit());
        assertTrue(help.out().startsWith("Usage: tool tags list "), help.out());
        assertTrue(help.out().contains("REPO"), help.out());
        assertEquals(new Run(0, "tool 1\n", ""), run("-V"));
        assertTrue(ran.isEmpty());
    }

    @Test
    void aLongFooterIsMadeOnlyForHelp() {
        int[] made = {0};
        Command c = Command.named("c")
                .standardHelp()
                .footer("Keys:\n", () -> "k" + ++made[0])
                .runs(a -> 0);
        PrintStream none = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, new Cli(c, none, none, () -> false).run());
        assertEquals(0, made[0], "not made for a run");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Cli(c, new PrintStream(out, true, StandardCharsets.UTF_8), none, () -> false).run("--help");
        assertEquals(1, made[0]);
        assertTrue(out.toString(StandardCharsets.UTF_8).endsWith("Keys:\nk1\n"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aNameDeclaredTwiceIsRefused() {
        assertThrows(IllegalStateException.class, () -> Command.named("x").options(LIMIT, LIMIT));
        assertThrows(
                IllegalStateException.class,
                () -> Command.named("x").subcommands(Command.named("y"), Command.named("y")));
        assertThrows(IllegalArgumentException.class, () -> Option.flag("No dash.", "json"));
    }
}
