package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKeys;
import io.berth.launcher.cli.Command;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The help a person reads, rendered at 80 columns: nothing cut off, nothing broken mid-word or mid-path. */
class HelpTest {
    /** Standard output, standard error and the exit code of {@code berth args}, help in plain text. */
    static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // no colours, whatever CLICOLOR_FORCE says: the transcripts are plain text; standard error as
        // Main gives it (redacted where it should be), so that the transcripts are what users see
        int code = Main.cli(
                        args,
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8),
                        () -> false)
                .run(args);
        return new String[] {
            out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), Integer.toString(code)
        };
    }

    static void fitsAndWrapsOnWords(String help, List<String> sentences) {
        for (String line : help.lines().toList()) {
            assertTrue(line.length() <= 80, "over 80 columns: '" + line + "'");
        }
        // wrapped only between words: joining the lines with single spaces gives every sentence back whole
        String joined = help.replaceAll("\\s+", " ");
        for (String sentence : sentences) {
            assertTrue(
                    joined.contains(sentence.replaceAll("\\s+", " ")),
                    "broken or cut off: " + sentence + "\nin:\n" + help);
        }
    }

    @Test
    void topLevelHelp() {
        String[] r = run("--help");
        assertEquals("0", r[2]);
        fitsAndWrapsOnWords(
                r[0],
                List.of(
                        "Berth container registry: the OCI distribution API, events, replication"
                                + " and an admin API.",
                        "Run 'berth <command> --help' for a command's options.",
                        "berth health [URL] exits 0 when URL answers 200 (default: /readyz of the server this configuration"
                                + " starts, over https with http.tls.cert):"
                                + " the image's health check (docs/deploy.md)."));
        for (String command : List.of("serve", "replicate", "webhooks", "admin")) {
            assertTrue(r[0].contains("  " + command + " "), command);
        }
    }

    @Test
    void serveHelpListsEveryKeyWithPathsWhole() {
        String[] r = run("serve", "--help");
        assertEquals("0", r[2]);
        String help = r[0];
        List<String> sentences = new ArrayList<>(List.of(
                "YAML configuration file (default: $BERTH_CONFIG,"
                        + " else berth.yaml in the working directory when it exists).",
                "Run the registry: the OCI distribution"
                        + " API over HTTP with health and metrics on the same port, and the gRPC admin API."));
        ConfigKeys.all().forEach(k -> sentences.add(k.description()));
        fitsAndWrapsOnWords(help, sentences);
        String joined = help.replaceAll("\\s+", " ");
        for (ConfigKey k : ConfigKeys.all()) {
            assertTrue(joined.contains(" " + k.name() + " " + k.envName() + " default " + k.defaultValue()), k.name());
        }
        assertTrue(help.contains("./data/berth.db") && help.contains("./data/blobs"), "paths whole");
        assertTrue(help.contains("(1KiB to 64MiB)"), "ranges shown");
        // below the options, every line of the key list is indented: no description restarts at column 0
        String keys = help.substring(help.indexOf("Configuration keys"));
        keys.lines()
                .skip(1)
                .filter(l -> !l.isBlank())
                .forEach(l -> assertTrue(l.startsWith("  "), "unindented line in the key list: " + l));
    }

    @Test
    void everyAdminCommandsHelpFitsAndNamesItsWholePath() {
        int commands = 0;
        ArrayDeque<List<Command>> work = new ArrayDeque<>();
        work.add(List.of(Main.root().subcommands().stream()
                .filter(c -> c.name().equals("admin"))
                .findFirst()
                .orElseThrow()));
        while (!work.isEmpty()) {
            List<Command> path = work.pop();
            commands++;
            List<String> args = new ArrayList<>(path.stream().map(Command::name).toList());
            String name = "berth " + String.join(" ", args);
            args.add("--help");
            String[] r = run(args.toArray(String[]::new));
            assertEquals("0", r[2], name);
            assertTrue(r[0].startsWith("Usage: " + name), r[0]);
            fitsAndWrapsOnWords(r[0], path.getLast().description());
            for (Command sub : path.getLast().subcommands()) {
                List<Command> next = new ArrayList<>(path);
                next.add(sub);
                work.add(next);
            }
        }
        assertTrue(commands >= 25, "admin and its subcommands: " + commands);
    }

    @Test
    void aWrongOptionGivesTheErrorAndOneHintNotTheWholeHelp() {
        String[] r = run("serve", "--bogus");
        assertEquals("2", r[2]);
        List<String> lines = r[1].lines().toList();
        assertEquals(List.of("berth: Unknown option: '--bogus'", "see 'berth serve --help'"), lines);
        assertEquals("", r[0]);
    }

    /** {@code --regex} is a switch that changes {@code --filter}: the help says so, and so does the error. */
    @Test
    void aSwitchGivenAValueSaysItIsASwitch() {
        String help = run("admin", "tags", "list", "--help")[0].replaceAll("\\s+", " ");
        assertTrue(
                help.contains("--regex A switch, it takes no value: read the PATTERN of --filter as a regular"
                        + " expression (RE2 syntax) instead of a glob, e.g. --filter 'v1\\..*' --regex."),
                help);
        for (String[] args : List.of(
                new String[] {"admin", "tags", "list", "app", "--regex", "v1\\..*"},
                new String[] {"admin", "tags", "list", "--regex", "v1\\..*", "app"},
                new String[] {"admin", "tags", "list", "app", "--regex=v1\\..*"})) {
            String[] r = run(args);
            assertEquals("2", r[2], String.join(" ", args));
            assertEquals(
                    List.of(
                            "berth: --regex is a switch and takes no value, but 'v1\\..*' was given. --regex: A"
                                    + " switch, it takes no value: read the PATTERN of --filter as a regular expression (RE2 syntax)"
                                    + " instead of a glob, e.g. --filter 'v1\\..*' --regex.",
                            "see 'berth admin tags list --help'"),
                    r[1].lines().toList(),
                    String.join(" ", args));
        }
        String[] alone = run("admin", "--server", "127.0.0.1:1", "tags", "list", "app", "--regex");
        assertEquals("2", alone[2]);
        assertEquals(
                "berth: --regex changes --filter, and no --filter was given: --filter PATTERN --regex",
                alone[1].lines().findFirst().orElseThrow());
    }

    @Test
    void noCommandPrintsUsageAndExits2() {
        String[] r = run();
        assertEquals("2", r[2]);
    }
}
