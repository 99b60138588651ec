package io.berth.launcher.cli;

import java.io.Console;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Runs a command line: parses it against a {@link Command} tree, shows help or the version when
 * asked, says what is wrong in two lines (exit code {@link #EXIT_USAGE}), else runs the command.
 */
public final class Cli {
    /** Exit code of a usage mistake. */
    public static final int EXIT_USAGE = 2;
    /** Help is laid out for this many columns, whatever the terminal. */
    public static final int HELP_WIDTH = 80;

    private final Command root;
    private final PrintStream out;
    private final PrintStream err;
    private final PrintStream usage;
    private final BooleanSupplier colour;

    /**
     * @param colour whether help is in colour (ANSI escape codes), asked only when help is shown:
     *               for a terminal, see {@link #colourFor}
     */
    public Cli(Command root, PrintStream out, PrintStream err, BooleanSupplier colour) {
        this(root, out, err, err, colour);
    }

    /**
     * {@code usage}: where a group's usage goes when no subcommand is given (standard error, as
     * {@code err}, but not through a redacting stream: help text holds no secret, and redaction
     * would mangle its {@code --token=TOKEN} and {@code Bearer TOKEN}).
     */
    public Cli(Command root, PrintStream out, PrintStream err, PrintStream usage, BooleanSupplier colour) {
        this.root = root;
        this.out = out;
        this.err = err;
        this.usage = usage;
        this.colour = colour;
    }

    /**
     * Whether help is shown in colour, as it was with picocli: never with NO_COLOR, always with
     * CLICOLOR_FORCE (not 0), else when the output is a terminal and CLICOLOR is not 0.
     */
    public static boolean colourFor(Map<String, String> env, Console console) {
        if (env.get("NO_COLOR") != null) {
            return false;
        }
        String force = env.get("CLICOLOR_FORCE");
        if (force != null && !force.equals("0")) {
            return true;
        }
        return !"0".equals(env.get("CLICOLOR")) && isTerminal(console);
    }

    /** Since JDK 22 there may be a console that is no terminal; before, a console was one. */
    private static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    /** What a command line comes to. */
    public enum Outcome {
        /** Help asked for: {@link Reading#text()} on standard output, exit code 0. */
        HELP,
        /** The version asked for: {@link Reading#text()} on standard output, exit code 0. */
        VERSION,
        /** A usage mistake: {@link Reading#text()} on standard error, exit code {@link #EXIT_USAGE}. */
        MISTAKE,
        /** A group of subcommands named without one: its help on standard error, exit code {@link #EXIT_USAGE}. */
        GROUP,
        /** The command runs with {@link Reading#args()}. */
        RUN
    }

    /**
     * A command line read, nothing run yet.
     *
     * @param command the command concerned, as help names it ({@code berth admin tags list})
     * @param text    what is printed, for all but {@link Outcome#RUN}
     * @param args    what the command receives, for {@link Outcome#RUN}
     */
    public record Reading(Outcome outcome, String command, String text, Args args) {}

    /** Reads {@code args} against the commands. */
    public Reading read(String... args) {
        Parser.Parsed parsed;
        try {
            parsed = new Parser(root, args).parse();
        } catch (Parser.UsageException e) {
            String name = Parser.qualifiedName(e.path());
            return new Reading(
                    Outcome.MISTAKE,
                    name,
                    mistake(name, Parser.switchGivenAValue(e, args).orElse(e.getMessage())),
                    null);
        }
        for (Parser.Level level : parsed.levels()) {
            String name = Parser.qualifiedName(level.path);
            if (level.usage) {
                return new Reading(Outcome.HELP, name, Help.usage(level.path, colour.getAsBoolean()), null);
            }
            if (level.version) {
                StringBuilder text = new StringBuilder();
                level.command.version().forEach(l -> text.append(l).append('\n'));
                return new Reading(Outcome.VERSION, name, text.toString(), null);
            }
        }
        String name = Parser.qualifiedName(parsed.path());
        if (parsed.path().getLast().action() == null) {
            return new Reading(Outcome.GROUP, name, Help.usage(parsed.path(), colour.getAsBoolean()), null);
        }
        return new Reading(Outcome.RUN, name, "", parsed.args());
    }

    /** Runs {@code args}; the exit code. */
    public int run(String... args) {
        Reading r = read(args);
        switch (r.outcome()) {
            case HELP, VERSION -> {
                out.print(r.text());
                out.flush();
                return 0;
            }
            case MISTAKE -> {
                err.print(r.text());
                err.flush();
                return EXIT_USAGE;
            }
            case GROUP -> {
                usage.print(r.text());
                usage.flush();
                return EXIT_USAGE;
            }
            case RUN -> {
                try {
                    return r.args().commandAction().run(r.args());
                } catch (UsageError e) {
                    err.print(mistake(r.command(), e.getMessage()));
                    err.flush();
                    return EXIT_USAGE;
                }
            }
            default -> throw new IllegalStateException(r.outcome().toString());
        }
    }

    /** The help of the command at {@code path} (names below the root), as {@code --help} prints it. */
    public String help(List<String> path) {
        List<Command> commands = new ArrayList<>(List.of(root));
        for (String name : path) {
            Command sub = commands.getLast().subcommand(name);
            if (sub == null) {
                throw new IllegalArgumentException("no command " + name + " in " + Parser.qualifiedName(commands));
            }
            commands.add(sub);
        }
        return Help.usage(commands, colour.getAsBoolean());
    }

    /** One line saying what is wrong, one saying where help is. */
    private String mistake(String command, String message) {
        return root.name() + ": " + message + "\n" + "see '" + command + " --help'\n";
    }
}
