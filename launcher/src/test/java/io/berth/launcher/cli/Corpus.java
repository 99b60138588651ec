package io.berth.launcher.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Command lines made from the commands' declarations, for {@code ParserTranscriptTest}: every
 * command's help, every group alone, every leaf bare and with every option spelled each way, and
 * the mistakes one makes with each option.
 */
public final class Corpus {
    private Corpus() {}

    /** The lines for every command under {@code root}, by command path in name order. */
    public static List<List<String>> of(Command root) {
        List<List<String>> lines = new ArrayList<>();
        walk(List.of(root), lines);
        return lines;
    }

    private static void walk(List<Command> path, List<List<String>> lines) {
        addLines(path, lines);
        Map<String, Command> subs = new TreeMap<>();
        path.getLast().subcommands().forEach(c -> subs.put(c.name(), c));
        for (Command sub : subs.values()) {
            List<Command> next = new ArrayList<>(path);
            next.add(sub);
            walk(next, lines);
        }
    }

    /** A value for an option: none for a switch. */
    static String sample(Option o) {
        if (o.isSwitch()) {
            return null;
        }
        if (o.type() == Option.Type.LONG) {
            return "7";
        }
        String name = o.longestName().replace("-", "");
        return o.kind() == Option.Kind.LIST ? "a-" + name + ",b" : "v-" + name;
    }

    private static List<String> with(List<String> line, String... more) {
        List<String> out = new ArrayList<>(line);
        out.addAll(List.of(more));
        return out;
    }

    private static void addLines(List<Command> commands, List<List<String>> lines) {
        List<String> path =
                commands.subList(1, commands.size()).stream().map(Command::name).toList();
        Command command = commands.getLast();
        for (String help : List.of("--help", "-h", "-V", "-hV")) {
            lines.add(with(path, help));
        }
        if (!command.subcommands().isEmpty()) {
            lines.add(path);
            return;
        }
        List<String> params = new ArrayList<>();
        for (int i = 0; i < command.positionals().size(); i++) {
            params.add("p" + i);
        }
        List<String> required = new ArrayList<>();
        List<Option> optional = new ArrayList<>();
        for (Option o : Parser.visibleOptions(commands)) {
            if (o.kind() == Option.Kind.USAGE_HELP || o.kind() == Option.Kind.VERSION_HELP) {
                continue;
            }
            if (o.isRequired()) {
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
        for (Option o : optional) {
            all.add(o.longestName());
            if (sample(o) != null) {
                all.add(sample(o));
            }
        }
        lines.add(all);
        // the same as --name=value, before the parameters, inherited ones before the subcommands
        List<String> first = new ArrayList<>();
        List<String> own = new ArrayList<>();
        for (Option o : optional) {
            String spelled = sample(o) == null ? o.longestName() : o.longestName() + "=" + sample(o);
            (o.isInherited() ? first : own).add(spelled);
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
        lines.add(with(bare, "extra"));
        lines.add(with(bare, "--bogus"));
        for (Option o : optional) {
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
}
