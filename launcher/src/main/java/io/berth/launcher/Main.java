package io.berth.launcher;

import io.berth.core.logging.Redaction;
import io.berth.launcher.cli.Cli;
import io.berth.launcher.cli.Command;
import java.io.PrintStream;
import java.util.List;
import java.util.function.BooleanSupplier;

/** {@code bin/berth}: one launcher for every Berth process. */
public final class Main {
    /** Exit code for configuration and usage errors. */
    public static final int EXIT_CONFIG = Cli.EXIT_USAGE;

    /** The commands, in the order help lists them. */
    private static final List<String> COMMANDS = List.of(ServeCommand.NAME, "replicate", "webhooks", "admin");

    private Main() {}

    /**
     * A command's declaration. Only the one asked for is loaded: {@code berth admin} runs on a class
     * path without the servers' libraries (bin/berth, launcher/pom.xml "admin-lib"), where loading
     * {@link ServeCommand} would fail.
     */
    private static Command command(String name) {
        return switch (name) {
            case ServeCommand.NAME -> ServeCommand.command();
            case "replicate" -> ReplicateCommand.command();
            case "webhooks" -> WebhooksCommand.command();
            case "admin" -> AdminCommand.command();
            default -> throw new IllegalArgumentException("no command " + name);
        };
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("health")) {
            System.exit(Health.check(args)); // the image's health check: nothing else loaded
        }
        PrintStream stderr = System.err;
        System.setErr(Redaction.stream(stderr));
        LogFormat.configure("info", "text");
        System.exit(cli(args, System.out, stderr, () -> Cli.colourFor(System.getenv(), System.console()))
                .run(args));
    }

    /**
     * The command line as {@link #main} reads it: mistakes to {@code stderr} through {@link Redaction}
     * (they may echo a value given), a group's usage to it as it is (help holds no secret).
     */
    static Cli cli(String[] args, PrintStream out, PrintStream stderr, BooleanSupplier colour) {
        return new Cli(root(args), out, Redaction.stream(stderr), stderr, colour);
    }

    /** Every command, with Berth's help (used by tests to walk the commands). */
    static Command root() {
        return root(new String[0]);
    }

    /**
     * The commands for {@code args}: when they begin with a command, only that command (its tree
     * is then the only one built, and the only one loaded); help, usage errors and unknown commands
     * get every command.
     */
    static Command root(String[] args) {
        Command root = Command.named("berth")
                .standardHelp()
                .version("berth " + version())
                .description(
                        "Berth container registry: the OCI distribution API, events, replication and an admin API.")
                .footer(
                        "",
                        "",
                        "Run 'berth <command> --help' for a command's options.",
                        "",
                        "berth health [URL] exits 0 when URL answers 200 (default: /readyz of the server this"
                                + " configuration starts, over https with http.tls.cert): the image's health check"
                                + " (docs/deploy.md).");
        String first = args.length > 0 ? args[0] : "";
        for (String name : COMMANDS) {
            if (!COMMANDS.contains(first) || name.equals(first)) {
                root.subcommand(command(name));
            }
        }
        return root;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        // the image runs the classes, not the jar: its build passes the version (launcher/pom.xml)
        return v != null ? v : System.getProperty("berth.version", "dev");
    }
}
