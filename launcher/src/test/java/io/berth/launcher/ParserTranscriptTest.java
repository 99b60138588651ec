package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.launcher.cli.Cli;
import io.berth.launcher.cli.Corpus;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * How the command line is read, pinned: for a corpus of command lines — every command bare and
 * with every option, spelled {@code --name value} and {@code --name=value}, before and after the
 * subcommands, and the mistakes people make — what each command receives (every option's value,
 * defaults included) or the two lines a mistake prints, compared with
 * {@code src/test/resources/parser/transcript.txt}. The transcript was recorded with picocli,
 * before Berth's own parser replaced it; regenerate it with {@code -Dberth.help.update=true} only
 * for a change meant to be seen, and review the diff.
 */
class ParserTranscriptTest {
    static final Path TRANSCRIPT = Path.of("src/test/resources/parser/transcript.txt");

    /** What a command line comes to: help, version, a mistake, a group's usage, or a run with these values. */
    static String outcome(String[] args) {
        PrintStream none = new PrintStream(OutputStream.nullOutputStream());
        Cli.Reading r = new Cli(Main.root(args), none, none, () -> false).read(args);
        return switch (r.outcome()) {
            case HELP -> "exit 0\n  help: " + r.command() + "\n";
            case VERSION ->
                "exit 0\n  version: " + String.join(" | ", r.text().lines().toList()) + "\n";
            case GROUP -> "exit 2\n  usage: " + r.command() + "\n";
            case MISTAKE ->
                "exit 2\n" + r.text().lines().map(l -> "  " + l + "\n").collect(Collectors.joining());
            case RUN -> {
                StringBuilder out = new StringBuilder("exit 0\n  run: " + r.command() + "\n");
                r.args()
                        .describe()
                        .forEach((k, v) ->
                                out.append("  ").append(k).append('=').append(v).append('\n'));
                yield out.toString();
            }
        };
    }

    /** The lines generated from the commands' declarations, then the mistakes written out by hand. */
    static List<List<String>> corpus() {
        List<List<String>> lines = new ArrayList<>(Corpus.of(Main.root()));
        for (String line : HAND_WRITTEN) {
            lines.add(line.isEmpty() ? List.of() : List.of(line.split(" ")));
        }
        return lines;
    }

    /** Mistakes and spellings the generated lines miss (words split at spaces). */
    static final List<String> HAND_WRITTEN = List.of(
            "",
            "sevre",
            "--bogus",
            "-x",
            "-hx",
            "serve -cfile.yaml",
            "serve -c=file.yaml",
            "serve --config=",
            "serve -c file.yaml -- x",
            "serve -- -c",
            "serve -hc x",
            "serve -ch",
            "serve -c",
            "serve --CONFIG x",
            "serve -c -5",
            "serve x y",
            "replicate extra",
            "replicate -c a -c b",
            "replicate --approve-deletes a,b -c f",
            "replicate --approve-deletes=a -c f --approve-deletes b,c",
            "replicate -c f --approve-deletes a,\"b,c\"",
            "replicate -c f --approve-deletes a,,b,",
            "webhooks -c",
            "webhooks",
            "admin --server tags list app",
            "admin tags list app --filter -x",
            "admin tags list app --filter=--json",
            "admin tags list app --filter=-x",
            "admin tags list --regex=true app",
            "admin tags list app --json=false",
            "admin tags list app --json=",
            "admin tags list app --json=TRUE",
            "admin tags restore app t --version 007",
            "admin tags restore app t --version x",
            "admin tags restore app t --version=-5",
            "admin tags restore app t --version -5",
            "admin tags restore app t -V",
            "admin robots create n --actions a,b --actions c --repositories x/**",
            "admin robots create n --repositories r",
            "admin robots create --repositories r --actions pull",
            "admin tags set app t",
            "admin tags set app",
            "admin tags set",
            "admin tags set --digest d",
            "admin foo tags list app",
            "admin foo tags list",
            "admin tags -hx",
            "admin --help tags list",
            "admin tags list app -5",
            "admin tags list app -1.5",
            "admin repos get -- -x",
            "admin repos get 1.5",
            "admin repos get -x",
            "admin repos get a b c",
            "admin gc run --grace",
            "admin -V tags",
            "admin tags -V list",
            "admin --server=h:1 tags list app --server=h:2",
            "admin --json tags list app --json",
            "admin tags --json list app",
            "admin tags --server h:3 list app",
            "admin tags list --server",
            "admin --timeout soon repositories list",
            "admin retention apply -f",
            "admin retention apply -fp.yaml",
            "admin retention apply -f=p.yaml",
            "admin retention apply --file p.yaml -f q.yaml",
            "admin -- tags",
            "admin tags list -- --json",
            "admin tags list app -- x",
            "admin info --server",
            "admin info --server -h",
            "admin info --token --json",
            "admin info -j",
            "admin info --json --",
            "admin tags delete app t --tls-ca",
            "admin immutability add --repositories r",
            "admin immutability add --tags t --repositories",
            "admin retention run n --plan",
            "admin gc status --follow=false",
            "admin gc status --follow=yes");

    static String block(List<String> args) {
        return "$\t" + String.join("\t", args) + "\n" + outcome(args.toArray(String[]::new));
    }

    @Test
    void everyLineReadsAsRecorded() throws IOException {
        if (HelpGoldenTest.UPDATE) {
            StringBuilder all = new StringBuilder();
            for (List<String> line : corpus()) {
                all.append(block(line));
            }
            Files.createDirectories(TRANSCRIPT.getParent());
            Files.writeString(TRANSCRIPT, all.toString(), StandardCharsets.UTF_8);
            return;
        }
        String recorded = Files.readString(TRANSCRIPT, StandardCharsets.UTF_8);
        int lines = 0;
        StringBuilder differ = new StringBuilder();
        for (String b : recorded.split("(?m)^(?=\\$\t)")) {
            String first = b.substring(0, b.indexOf('\n'));
            List<String> args =
                    first.length() <= 2 ? List.of() : List.of(first.substring(2).split("\t", -1));
            String now = block(args);
            if (!now.equals(b)) {
                differ.append("recorded:\n").append(b).append("now:\n").append(now);
            }
            lines++;
        }
        assertTrue(lines > 400, "the transcript holds the corpus: " + lines);
        assertEquals(
                "",
                differ.toString(),
                "lines read otherwise than recorded (a change meant to be seen: "
                        + "-Dberth.help.update=true, then review the diff)");
        System.out.println(lines + " command lines read as recorded");
    }
}
