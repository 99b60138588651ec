package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

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
        CommandLine cli = Main.commandLine(args);
        cli.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(new StringWriter()));
        StringBuilder out = new StringBuilder();
        try {
            CommandLine.ParseResult r = cli.parseArgs(args);
            for (CommandLine.ParseResult p = r; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
                if (p.isUsageHelpRequested()) {
                    return "exit 0\n  help: " + p.commandSpec().qualifiedName() + "\n";
                }
                if (p.isVersionHelpRequested()) {
                    return "exit 0\n  version: " + String.join(" | ", p.commandSpec().version()) + "\n";
                }
            }
            CommandLine.ParseResult leaf = r;
            while (leaf.hasSubcommand()) {
                leaf = leaf.subcommand();
            }
            CommandSpec spec = leaf.commandSpec();
            if (!spec.subcommands().isEmpty() || spec.userObject() instanceof Main) {
                return "exit 2\n  usage: " + spec.qualifiedName() + "\n";
            }
            out.append("exit 0\n  run: ").append(spec.qualifiedName()).append('\n');
            Map<String, String> values = new TreeMap<>();
            for (OptionSpec o : spec.options()) {
                if (!o.usageHelp() && !o.versionHelp()) {
                    values.put(o.longestName(), format(o.getValue()));
                }
            }
            for (PositionalParamSpec p : spec.positionalParameters()) {
                values.put(p.paramLabel(), format(p.getValue()));
            }
            values.forEach((k, v) -> out.append("  ").append(k).append('=').append(v).append('\n'));
            return out.toString();
        } catch (CommandLine.ParameterException e) {
            return "exit 2\n  berth: " + Main.switchGivenAValue(e, args).orElse(e.getMessage()) + "\n  see '"
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'\n";
        }
    }

    static String format(Object value) {
        if (value instanceof Collection<?> c) {
            return "[" + String.join(",", c.stream().map(String::valueOf).toList()) + "]";
        }
        return String.valueOf(value);
    }

    /** Every command path: [], [serve], [admin], [admin, tags], [admin, tags, list], … */
    static List<List<String>> paths() {
        return HelpGoldenTest.commandPaths();
    }

    /** A value for an option in the generated lines: none for a switch. */
    static String sample(OptionSpec o) {
        if (o.arity().max() == 0) {
            return null;
        }
        Class<?> type = o.type();
        if (type == Long.class || type == long.class) {
            return "7";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a-" + o.longestName().replace("-", "") + ",b";
        }
        return "v-" + o.longestName().replace("-", "");
    }

    static CommandSpec spec(List<String> path) {
        CommandLine c = Main.commandLine();
        for (String name : path) {
            c = c.getSubcommands().get(name);
        }
        return c.getCommandSpec();
    }

    /** The lines generated from the commands' declarations, then the mistakes written out by hand. */
    static List<List<String>> corpus() {
        List<List<String>> lines = new ArrayList<>();
        for (List<String> path : paths()) {
            CommandSpec spec = spec(path);
            for (String help : List.of("--help", "-h", "-V", "-hV")) {
                List<String> l = new ArrayList<>(path);
                l.add(help);
                lines.add(l);
            }
            if (!spec.subcommands().isEmpty()) {
                lines.add(path);
                continue;
            }
            List<String> params = new ArrayList<>();
            for (PositionalParamSpec p : spec.positionalParameters()) {
                params.add("p" + p.index().min());
            }
            List<String> required = new ArrayList<>();
            List<OptionSpec> optional = new ArrayList<>();
            for (OptionSpec o : spec.options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                if (o.required()) {
                    required.add(o.longestName());
                    required.add(sample(o));
                } else {
                    optional.add(o);
                }
            }
            List<String> bare = new ArrayList<>(path);
            bare.addAll(params);
            bare.addAll(required);
            lines.add(bare);
            // every option after the parameters, as --name value
            List<String> all = new ArrayList<>(bare);
            for (OptionSpec o : optional) {
                all.add(o.longestName());
                if (sample(o) != null) {
                    all.add(sample(o));
                }
            }
            lines.add(all);
            // the same as --name=value, before the parameters, inherited ones before the subcommands
            List<String> first = new ArrayList<>();
            List<String> own = new ArrayList<>();
            for (OptionSpec o : optional) {
                String spelled = sample(o) == null ? o.longestName() : o.longestName() + "=" + sample(o);
                (o.inherited() ? first : own).add(spelled);
            }
            List<String> equals = new ArrayList<>(path.subList(0, 1));
            equals.addAll(first);
            equals.addAll(path.subList(1, path.size()));
            equals.addAll(own);
            equals.addAll(required);
            equals.addAll(params);
            lines.add(equals);
            // mistakes: nothing given, a word too many, an unknown option
            if (!params.isEmpty() || !required.isEmpty()) {
                lines.add(path);
            }
            List<String> extra = new ArrayList<>(bare);
            extra.add("extra");
            lines.add(extra);
            List<String> unknown = new ArrayList<>(bare);
            unknown.add("--bogus");
            lines.add(unknown);
            for (OptionSpec o : optional) {
                if (sample(o) == null) {
                    // a switch given a value, both ways; and twice
                    lines.add(with(bare, o.longestName() + "=x"));
                    lines.add(with(bare, o.longestName(), "x"));
                    lines.add(with(bare, o.longestName(), o.longestName()));
                } else {
                    // no value at the end; an option where the value should be; twice
                    lines.add(with(bare, o.longestName()));
                    lines.add(with(bare, o.longestName(), "--help"));
                    lines.add(with(bare, o.longestName(), "a", o.longestName(), "b"));
                }
            }
        }
        for (String line : HAND_WRITTEN) {
            lines.add(line.isEmpty() ? List.of() : List.of(line.split(" ")));
        }
        return lines;
    }

    static List<String> with(List<String> line, String... more) {
        List<String> out = new ArrayList<>(line);
        out.addAll(List.of(more));
        return out;
    }

    /** Mistakes and spellings the generated lines miss (words split at spaces). */
    static final List<String> HAND_WRITTEN = List.of("", "sevre", "--bogus", "-x", "-hx", "serve -cfile.yaml",
            "serve -c=file.yaml", "serve --config=", "serve -c file.yaml -- x", "serve -- -c", "serve -hc x",
            "serve -ch", "serve -c", "serve --CONFIG x", "serve -c -5", "serve x y", "replicate extra",
            "replicate -c a -c b", "replicate --approve-deletes a,b -c f", "replicate --approve-deletes=a -c f --approve-deletes b,c",
            "replicate -c f --approve-deletes a,\"b,c\"", "replicate -c f --approve-deletes a,,b,",
            "webhooks -c", "webhooks", "admin --server tags list app", "admin tags list app --filter -x",
            "admin tags list app --filter=--json", "admin tags list app --filter=-x", "admin tags list --regex=true app",
            "admin tags list app --json=false", "admin tags list app --json=", "admin tags list app --json=TRUE",
            "admin tags restore app t --version 007", "admin tags restore app t --version x",
            "admin tags restore app t --version=-5", "admin tags restore app t --version -5",
            "admin tags restore app t -V", "admin robots create n --actions a,b --actions c --repositories x/**",
            "admin robots create n --repositories r", "admin robots create --repositories r --actions pull",
            "admin tags set app t", "admin tags set app", "admin tags set", "admin tags set --digest d",
            "admin foo tags list app", "admin foo tags list", "admin tags -hx", "admin --help tags list",
            "admin tags list app -5", "admin tags list app -1.5", "admin repos get -- -x", "admin repos get 1.5",
            "admin repos get -x", "admin repos get a b c", "admin gc run --grace", "admin -V tags", "admin tags -V list",
            "admin --server=h:1 tags list app --server=h:2", "admin --json tags list app --json",
            "admin tags --json list app", "admin tags --server h:3 list app", "admin tags list --server",
            "admin --timeout soon repositories list", "admin retention apply -f", "admin retention apply -fp.yaml",
            "admin retention apply -f=p.yaml", "admin retention apply --file p.yaml -f q.yaml", "admin -- tags",
            "admin tags list -- --json", "admin tags list app -- x", "admin info --server", "admin info --server -h",
            "admin info --token --json", "admin info -j", "admin info --json --", "admin tags delete app t --tls-ca",
            "admin immutability add --repositories r", "admin immutability add --tags t --repositories",
            "admin retention run n --plan", "admin gc status --follow=false", "admin gc status --follow=yes");

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
        for (String b : recorded.split("(?m)^(?=\\$\t)")) {
            String first = b.substring(0, b.indexOf('\n'));
            List<String> args = first.length() <= 2 ? List.of() : List.of(first.substring(2).split("\t", -1));
            assertEquals(b, block(args), "berth " + String.join(" ", args));
            lines++;
        }
        assertTrue(lines > 400, "the transcript holds the corpus: " + lines);
        System.out.println(lines + " command lines read as recorded");
    }
}
