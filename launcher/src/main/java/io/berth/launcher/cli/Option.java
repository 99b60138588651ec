package io.berth.launcher.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A named option of a {@link Command}: a switch ({@code --json}), an option with one value
 * ({@code --server=HOST:PORT}) or a list ({@code --actions=ACTION[,ACTION...]}, given as often as
 * wanted, each value split at a separator). Options are constants, and {@link Args} is asked for
 * their values by the constant: an option never stands for a field found by reflection.
 */
public final class Option {
    /** What an option takes. */
    enum Kind {
        SWITCH,
        VALUE,
        LIST,
        USAGE_HELP,
        VERSION_HELP
    }

    /** What a value must read as; checked while parsing, so that a command never sees a bad one. */
    enum Type {
        TEXT,
        PATH,
        LONG
    }

    private final List<String> names;
    private final Kind kind;
    private final String label;
    private final String description;
    private final boolean required;
    private final String defaultValue;
    private final String split;
    private final boolean inherited;
    private final Type type;

    private Option(
            List<String> names,
            Kind kind,
            String label,
            String description,
            boolean required,
            String defaultValue,
            String split,
            boolean inherited,
            Type type) {
        if (names.isEmpty() || names.stream().anyMatch(n -> !n.startsWith("-") || n.length() < 2)) {
            throw new IllegalArgumentException("option names begin with '-': " + names);
        }
        this.names = List.copyOf(names);
        this.kind = kind;
        this.label = label;
        this.description = Objects.requireNonNull(description);
        this.required = required;
        this.defaultValue = defaultValue;
        this.split = split;
        this.inherited = inherited;
        this.type = type;
    }

    /** A switch: present or not. */
    public static Option flag(String description, String... names) {
        return new Option(List.of(names), Kind.SWITCH, "", description, false, null, null, false, Type.TEXT);
    }

    /** An option with one value, shown as {@code label} in help ({@code --server=HOST:PORT}). */
    public static Option value(String label, String description, String... names) {
        return new Option(List.of(names), Kind.VALUE, label, description, false, null, null, false, Type.TEXT);
    }

    /** {@code -h, --help}: show the command's help and exit 0. */
    public static Option usageHelp() {
        return new Option(
                List.of("-h", "--help"),
                Kind.USAGE_HELP,
                "",
                "Show this help message and exit.",
                false,
                null,
                null,
                false,
                Type.TEXT);
    }

    /** {@code -V, --version}: print the version and exit 0. */
    public static Option versionHelp() {
        return new Option(
                List.of("-V", "--version"),
                Kind.VERSION_HELP,
                "",
                "Print version information and exit.",
                false,
                null,
                null,
                false,
                Type.TEXT);
    }

    /** The same option, to be given (a usage error otherwise). */
    public Option required() {
        return new Option(names, kind, label, description, true, defaultValue, split, inherited, type);
    }

    /** The same option with the value it has when not given. */
    public Option defaultValue(String value) {
        return new Option(
                names, kind, label, description, required, Objects.requireNonNull(value), split, inherited, type);
    }

    /** The same option taking a list: given any number of times, each value split at {@code regex}. */
    public Option list(String regex) {
        if (kind != Kind.VALUE) {
            throw new IllegalStateException("only an option with a value can take a list");
        }
        return new Option(names, Kind.LIST, label, description, required, defaultValue, regex, inherited, type);
    }

    /** The same option, offered by every subcommand of the command that declares it, before or after their name. */
    public Option inherited() {
        return new Option(names, kind, label, description, required, defaultValue, split, true, type);
    }

    /** The same option, its value a file path. */
    public Option path() {
        return new Option(names, kind, label, description, required, defaultValue, split, inherited, Type.PATH);
    }

    /** The same option, its value a whole number. */
    public Option number() {
        return new Option(names, kind, label, description, required, defaultValue, split, inherited, Type.LONG);
    }

    List<String> names() {
        return names;
    }

    Kind kind() {
        return kind;
    }

    String label() {
        return label;
    }

    String description() {
        return description;
    }

    boolean isRequired() {
        return required;
    }

    String defaultValue() {
        return defaultValue;
    }

    String split() {
        return split;
    }

    boolean isInherited() {
        return inherited;
    }

    Type type() {
        return type;
    }

    /** Takes no value: a switch or a help option. */
    boolean isSwitch() {
        return kind == Kind.SWITCH || kind == Kind.USAGE_HELP || kind == Kind.VERSION_HELP;
    }

    /** The names, shortest first (a stable sort: of two as long, the first given first). */
    List<String> shortestFirst() {
        List<String> sorted = new ArrayList<>(names);
        sorted.sort((a, b) -> a.length() - b.length());
        return sorted;
    }

    String shortestName() {
        return shortestFirst().getFirst();
    }

    String longestName() {
        List<String> sorted = shortestFirst();
        return sorted.getLast();
    }

    @Override
    public String toString() {
        return longestName();
    }
}
