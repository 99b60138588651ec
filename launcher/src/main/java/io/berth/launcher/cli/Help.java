package io.berth.launcher.cli;

import io.berth.launcher.cli.Styled.Style;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A command's help, laid out at {@link #WIDTH} columns as picocli 4.7 laid it out (the transcripts
 * in {@code HelpGoldenTest} hold it byte for byte): the synopsis, the description, the positional
 * parameters and options in a table, the subcommands, the footer.
 */
final class Help {
    private static final int WIDTH = Cli.HELP_WIDTH;
    /** A long option's text wider than this spans into the description column instead of widening it. */
    private static final int LONG_OPTIONS_MAX = 20;

    private static final String SYNOPSIS_HEADING = "Usage: ";

    private Help() {}

    static String usage(List<Command> path, boolean colour) {
        Command command = path.getLast();
        List<Option> options = Parser.visibleOptions(path);
        StringBuilder out = new StringBuilder(heading(SYNOPSIS_HEADING));
        out.append(synopsis(path, options, colour));
        out.append(paragraphs(command.description()));
        int longWidth = longOptionsWidth(options, command.positionals());
        TextTable parameters = table(longWidth);
        for (Positional p : command.positionals()) {
            parameters.addRowLines(
                    Styled.of(" ", Style.PARAMETER),
                    Styled.EMPTY,
                    Styled.EMPTY,
                    Styled.of(p.label(), Style.PARAMETER),
                    Styled.of(p.description()));
        }
        out.append(parameters.render(colour));
        TextTable table = table(longWidth);
        List<Option> sorted = new ArrayList<>(options);
        sorted.sort(Help::byName);
        for (Option o : sorted) {
            addOption(table, o);
        }
        out.append(table.render(colour));
        if (!command.subcommands().isEmpty()) {
            out.append(heading("Commands:\n"));
            out.append(commands(command.subcommands(), colour));
        }
        out.append(heading(command.footerHeading()));
        out.append(paragraphs(command.footer()));
        return out.toString();
    }

    /** The options' table: required marker, short name, comma, long names, description. */
    private static TextTable table(int longWidth) {
        return new TextTable(
                new TextTable.Column(2, 0, TextTable.Overflow.TRUNCATE),
                new TextTable.Column(2, 0, TextTable.Overflow.SPAN),
                new TextTable.Column(1, 0, TextTable.Overflow.TRUNCATE),
                new TextTable.Column(longWidth, 1, TextTable.Overflow.SPAN),
                new TextTable.Column(WIDTH - 5 - longWidth, 1, TextTable.Overflow.WRAP));
    }

    private static void addOption(TextTable table, Option o) {
        List<String> names = o.shortestFirst();
        boolean hasShort = names.getFirst().length() == 2;
        String shortName = hasShort ? names.getFirst() : "";
        String separator = hasShort && names.size() > 1 ? "," : "";
        String longNames = String.join(", ", names.subList(hasShort ? 1 : 0, names.size()));
        Styled label = label(o);
        if (label.length() > 0 && longNames.isEmpty()) {
            separator = "=";
            label = label.substring(1);
        }
        table.addRowLines(
                Styled.EMPTY,
                Styled.of(shortName, Style.OPTION),
                Styled.of(separator),
                Styled.of(longNames, Style.OPTION).concat(label),
                Styled.of(o.description()));
    }

    /** The long option column holds the widest option or parameter up to {@link #LONG_OPTIONS_MAX}, plus 3. */
    private static int longOptionsWidth(List<Option> options, List<Positional> positionals) {
        int max = 0;
        for (Option o : options) {
            List<String> names = o.shortestFirst();
            boolean hasShort = names.getFirst().length() == 2;
            String longNames = String.join(", ", names.subList(hasShort ? 1 : 0, names.size()));
            int len = longNames.length()
                    + (longNames.isEmpty() && !o.isSwitch() ? o.label().length() : label(o).length());
            if (len < LONG_OPTIONS_MAX + 1) {
                max = Math.max(max, len);
            }
        }
        for (Positional p : positionals) {
            if (p.label().length() < LONG_OPTIONS_MAX + 1) {
                max = Math.max(max, p.label().length());
            }
        }
        return max + 3;
    }

    /** {@code =LABEL}, {@code =LABEL[,LABEL...]} for a list, nothing for a switch. */
    private static Styled label(Option o) {
        if (o.isSwitch()) {
            return Styled.EMPTY;
        }
        Styled name = Styled.of(o.label(), Style.OPTION_PARAM);
        Styled value = o.kind() == Option.Kind.LIST
                ? name.concat("[" + o.split()).concat(name).concat("...]")
                : name;
        return Styled.of("=").concat(value);
    }

    /**
     * Options sorted by their shortest name without its dashes, ignoring case (lower case first of
     * two that differ only in it).
     */
    private static int byName(Option a, Option b) {
        String s1 = strip(a.shortestName());
        String s2 = strip(b.shortestName());
        int result = s1.toUpperCase(Locale.ROOT).compareTo(s2.toUpperCase(Locale.ROOT));
        return result == 0 ? -s1.compareTo(s2) : result;
    }

    private static String strip(String name) {
        int i = 0;
        while (i < name.length() && name.charAt(i) == '-') {
            i++;
        }
        return name.substring(i);
    }

    /** In the synopsis: switches first, then options with a value, lists last; by name within each. */
    private static final Comparator<Option> SYNOPSIS_ORDER = Comparator.comparingInt((Option o) -> o.isSwitch() ? 0 : 1)
            .thenComparingInt(o -> o.kind() == Option.Kind.LIST ? 1 : 0)
            .thenComparing(Help::byName);

    private static String synopsis(List<Command> path, List<Option> options, boolean colour) {
        List<Option> sorted = new ArrayList<>(options);
        sorted.sort(SYNOPSIS_ORDER);
        Styled text = Styled.EMPTY;
        StringBuilder requiredCluster = new StringBuilder("-");
        StringBuilder optionalCluster = new StringBuilder("-");
        List<Option> rest = new ArrayList<>();
        for (Option o : sorted) {
            String name = o.shortestName();
            if (o.isSwitch() && name.length() == 2) {
                (o.isRequired() ? requiredCluster : optionalCluster).append(name.substring(1));
            } else {
                rest.add(o);
            }
        }
        if (requiredCluster.length() > 1) {
            text = text.concat(" ").concat(Styled.of(requiredCluster.toString(), Style.OPTION));
        }
        if (optionalCluster.length() > 1) {
            text = text.concat(" [")
                    .concat(Styled.of(optionalCluster.toString(), Style.OPTION))
                    .concat("]");
        }
        for (Option o : rest) {
            Styled one = Styled.of(o.shortestName(), Style.OPTION).concat(label(o));
            if (o.isRequired()) {
                text = text.concat(" ").concat(one);
                if (o.kind() == Option.Kind.LIST) {
                    text = text.concat(" [").concat(one).concat("]...");
                }
            } else {
                text = text.concat(" [").concat(one).concat("]");
                if (o.kind() == Option.Kind.LIST) {
                    text = text.concat("...");
                }
            }
        }
        for (Positional p : path.getLast().positionals()) {
            text = text.concat(" ").concat(Styled.of(p.label(), Style.PARAMETER));
        }
        if (!path.getLast().subcommands().isEmpty()) {
            text = text.concat(" [COMMAND]");
        }
        String name = Parser.qualifiedName(path);
        // wrapped lines line up after the command's name, unless that is more than half the width in
        int indent = SYNOPSIS_HEADING.length() + name.length() + 1;
        if (indent > WIDTH / 2) {
            indent = SYNOPSIS_HEADING.length();
        }
        TextTable table = TextTable.singleColumn(WIDTH);
        table.indentWrappedLines = indent;
        table.addRow(Styled.of("X".repeat(SYNOPSIS_HEADING.length()))
                .concat(Styled.of(name, Style.COMMAND))
                .concat(text));
        return table.render(colour).substring(SYNOPSIS_HEADING.length());
    }

    private static String commands(List<Command> subcommands, boolean colour) {
        int nameWidth = 0;
        for (Command c : subcommands) {
            nameWidth = Math.max(nameWidth, c.name().length());
        }
        nameWidth = Math.min(nameWidth, WIDTH / 2);
        TextTable table = new TextTable(
                new TextTable.Column(nameWidth + 2, 2, TextTable.Overflow.SPAN),
                new TextTable.Column(WIDTH - (nameWidth + 2), 2, TextTable.Overflow.WRAP));
        for (Command c : subcommands) {
            String first = c.description().isEmpty() ? "" : c.description().getFirst();
            Styled[] lines = Styled.of(first).lines();
            for (int i = 0; i < lines.length; i++) {
                table.addRow(i == 0 ? Styled.of(c.name(), Style.COMMAND) : Styled.EMPTY, lines[i]);
            }
        }
        return table.render(colour);
    }

    /** Paragraphs, each wrapped to the width, each line break in them kept. */
    private static String paragraphs(List<String> paragraphs) {
        TextTable table = TextTable.singleColumn(WIDTH);
        table.indentWrappedLines = 0;
        for (String p : paragraphs) {
            table.addRow(p);
        }
        return table.render(false);
    }

    /** A heading: wrapped as a paragraph, without its last line break, with its trailing spaces. */
    private static String heading(String text) {
        String s = paragraphs(List.of(text));
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        int trailing = 0;
        for (int i = text.length() - 1; i >= 0 && text.charAt(i) == ' '; i--) {
            trailing++;
        }
        return s + " ".repeat(trailing);
    }
}
