package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.ConfigKeys;
import io.berth.launcher.cli.Command;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What a person sees, byte for byte: every command's and subcommand's help, and the lines a usage
 * mistake prints, compared with the transcripts in {@code src/test/resources/help}. A refactoring
 * (keys moving to other modules, another argument parser) must leave them alone; a change meant to
 * be seen is made by running this test with {@code -Dberth.help.update=true}, which rewrites the
 * transcripts, and reviewing their diff.
 */
class HelpGoldenTest {
    static final Path GOLDEN = Path.of("src/test/resources/help");
    static final boolean UPDATE = Boolean.getBoolean("berth.help.update");
    /**
     * A build with {@code -Dminimal}: without storage-s3 and metadata-postgres, {@code serve --help} lists
     * neither their keys nor their types, and is compared with a transcript of its own.
     */
    static final boolean MINIMAL = ConfigKeys.byName("storage.s3.endpoint").isEmpty()
            && ConfigKeys.byName("metadata.postgres.url").isEmpty();

    /** Every command path: "", "serve", "admin", "admin tags", "admin tags list", … */
    static List<List<String>> commandPaths() {
        List<List<String>> paths = new ArrayList<>();
        walk(Main.root(), new ArrayList<>(), paths);
        return paths;
    }

    private static void walk(Command command, List<String> path, List<List<String>> into) {
        into.add(List.copyOf(path));
        Map<String, Command> subs = new TreeMap<>();
        command.subcommands().forEach(c -> subs.put(c.name(), c));
        for (Map.Entry<String, Command> e : subs.entrySet()) {
            List<String> next = new ArrayList<>(path);
            next.add(e.getKey());
            walk(e.getValue(), next, into);
        }
    }

    static String transcript(List<String> args) {
        String[] r = HelpTest.run(args.toArray(String[]::new));
        return "$ berth " + String.join(" ", args) + "\nexit " + r[2] + "\n--- stdout\n" + r[0] + "--- stderr\n" + r[1];
    }

    static void check(String name, String actual) throws IOException {
        Path file = GOLDEN.resolve(name + ".txt");
        if (UPDATE) {
            Files.createDirectories(GOLDEN);
            Files.writeString(file, actual, StandardCharsets.UTF_8);
            return;
        }
        assertTrue(Files.exists(file), "no transcript " + file + ": run with -Dberth.help.update=true and review it");
        assertEquals(
                Files.readString(file, StandardCharsets.UTF_8),
                actual,
                "help differs from " + file
                        + " (a change meant to be seen: -Dberth.help.update=true, then review the diff)");
    }

    @Test
    void everyCommandsHelpIsAsRecorded() throws IOException {
        List<List<String>> paths = commandPaths();
        assertTrue(paths.size() > 20, "the walk found the commands: " + paths);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            String name = path.isEmpty() ? "berth" : String.join("-", path);
            check(MINIMAL && name.equals(ServeCommand.NAME) ? name + ".minimal" : name, transcript(args));
        }
    }

    @Test
    void usageMistakesPrintWhatTheyPrinted() throws IOException {
        Map<String, List<String>> mistakes = new TreeMap<>(Map.of(
                "mistake-unknown-command", List.of("sevre"),
                "mistake-unknown-option", List.of("serve", "--bogus"),
                "mistake-admin-missing-subcommand", List.of("admin"),
                "mistake-admin-tags-missing-argument", List.of("admin", "tags", "list"),
                "mistake-admin-bad-number", List.of("admin", "--timeout", "soon", "repositories", "list"),
                "mistake-replicate-extra-argument", List.of("replicate", "extra")));
        for (Map.Entry<String, List<String>> m : mistakes.entrySet()) {
            check(m.getKey(), transcript(m.getValue()));
        }
    }
}
