package io.berth.launcher.cli;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A command of the command line, declared in code: its name, description, options and positional
 * parameters (in the order declared), subcommands and what it runs. Built once per process, for the
 * command invoked; {@link Cli} parses a command line against it, prints its help and runs it.
 */
public final class Command {
    /** What a command does with what was given; its exit code. */
    @FunctionalInterface
    public interface Action {
        int run(Args args);
    }

    private final String name;
    private final List<String> description = new ArrayList<>();
    private Supplier<List<String>> footer = List::of;
    private final List<Object> declared = new ArrayList<>();
    private final Map<String, Command> subcommands = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private String footerHeading = "";
    private List<String> version = List.of();
    private Action action;

    private Command(String name) {
        this.name = name;
    }

    /** A command called {@code name}. */
    public static Command named(String name) {
        return new Command(name);
    }

    /** The description, one paragraph per line, each wrapped to the help's width. */
    public Command description(String... paragraphs) {
        description.addAll(List.of(paragraphs));
        return this;
    }

    /** Text after the lists: a heading (may be empty) and paragraphs ("" for an empty line). */
    public Command footer(String heading, String... paragraphs) {
        footerHeading = heading;
        List<String> given = List.of(paragraphs);
        footer = () -> given;
        return this;
    }

    /**
     * Text after the lists, made only when the help is shown: a long footer (serve's list of every
     * configuration key) is not built on every start.
     */
    public Command footer(String heading, Supplier<String> paragraph) {
        footerHeading = heading;
        footer = () -> List.of(paragraph.get());
        return this;
    }

    /** {@code -h, --help} and {@code -V, --version}. */
    public Command standardHelp() {
        return option(Option.usageHelp()).option(Option.versionHelp());
    }

    /** What {@code --version} prints (nothing unless set). */
    public Command version(String... lines) {
        version = List.of(lines);
        return this;
    }

    public Command option(Option option) {
        for (String n : option.names()) {
            if (!names.add(n)) {
                throw new IllegalStateException(name + ": option " + n + " declared twice");
            }
        }
        declared.add(option);
        return this;
    }

    public Command options(Option... options) {
        for (Option o : options) {
            option(o);
        }
        return this;
    }

    public Command positional(Positional positional) {
        declared.add(positional);
        return this;
    }

    public Command subcommand(Command command) {
        if (subcommands.putIfAbsent(command.name, command) != null) {
            throw new IllegalStateException(name + ": subcommand " + command.name + " declared twice");
        }
        return this;
    }

    public Command subcommands(Command... commands) {
        for (Command c : commands) {
            subcommand(c);
        }
        return this;
    }

    /** What the command runs; a command without one (a group of subcommands) shows its usage, exit code 2. */
    public Command runs(Action runs) {
        action = runs;
        return this;
    }

    public String name() {
        return name;
    }

    /** The subcommands, in the order help lists them. */
    public List<Command> subcommands() {
        return List.copyOf(subcommands.values());
    }

    Command subcommand(String commandName) {
        return subcommands.get(commandName);
    }

    /** The description's paragraphs. */
    public List<String> description() {
        return description;
    }

    String footerHeading() {
        return footerHeading;
    }

    List<String> footer() {
        return footer.get();
    }

    List<String> version() {
        return version;
    }

    Action action() {
        return action;
    }

    /** Options and positional parameters, in the order declared. */
    List<Object> declared() {
        return declared;
    }

    List<Option> options() {
        return declared.stream()
                .filter(Option.class::isInstance)
                .map(Option.class::cast)
                .toList();
    }

    List<Positional> positionals() {
        return declared.stream()
                .filter(Positional.class::isInstance)
                .map(Positional.class::cast)
                .toList();
    }

    @Override
    public String toString() {
        return name;
    }
}
