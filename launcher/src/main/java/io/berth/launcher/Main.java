package io.berth.launcher;

import io.berth.core.logging.Redaction;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code bin/berth}: one launcher for every Berth process. */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        usageHelpWidth = Main.HELP_WIDTH, usageHelpAutoWidth = false,
        description = "Berth container registry: the OCI distribution API, events, replication and an admin API.",
        footer = {"", "Run 'berth <command> --help' for a command's options.", "",
            "berth health [URL] exits 0 when URL answers 200 (default: /readyz of the server this configuration"
                + " starts, over https with http.tls.cert):"
                + " the image's health check (docs/deploy.md)."})
public final class Main implements Callable<Integer> {
    /** Exit code for configuration and usage errors. */
    public static final int EXIT_CONFIG = 2;
    /** Help is rendered for this many columns, whatever the terminal. */
    static final int HELP_WIDTH = 80;

    /** The commands, in the order help lists them. */
    private static final List<String> COMMANDS = List.of(ServeCommand.NAME, "replicate", "webhooks", "admin");

    /**
     * A new command object. Only the one asked for is loaded: {@code berth admin} runs on a class path
     * without the servers' libraries (bin/berth, launcher/pom.xml "admin-lib"), where loading
     * {@link ServeCommand} would fail.
     */
    private static Object command(String name) {
        return switch (name) {
            case ServeCommand.NAME -> new ServeCommand();
            case "replicate" -> new ReplicateCommand();
            case "webhooks" -> new WebhooksCommand();
            case "admin" -> new AdminCommand();
            default -> throw new IllegalArgumentException("no command " + name);
        };
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("health")) {
            System.exit(Health.check(args)); // the image's health check: nothing else loaded
        }
        System.setErr(Redaction.stream(System.err));
        LogFormat.configure("info", "text");
        // an admin call is over in well under a second: read it without picocli when it reads plainly
        Optional<Integer> admin = AdminWithoutParsing.run(args);
        if (admin.isPresent()) {
            System.exit(admin.get());
        }
        if (args.length > 0 && args[0].equals("admin")) {
            // not a word of ServeCommand: admin's class path lacks the servers' libraries it links to
            System.exit(commandLine(args).execute(args));
        }
        ServeCommand serve = ServeCommand.withoutParsing(args);
        System.exit(serve != null ? serve.call() : commandLine(args).execute(args));
    }

    /** The whole command line with Berth's help and error conventions (used by tests to render help). */
    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * The command line for {@code args}: when they begin with a command, only that command's tree is
     * built. picocli builds a command's model by reflection over its annotations, and building every
     * command's (admin alone has thirty subcommands) slowed every start (figures: docs/benchmarks.md, "Behind the code"); help, usage errors
     * and unknown commands get every command.
     */
    static CommandLine commandLine(String[] argv) {
        CommandLine cli = new CommandLine(new Main());
        String first = argv.length > 0 ? argv[0] : "";
        for (String name : COMMANDS) {
            if (!COMMANDS.contains(first) || name.equals(first)) {
                cli.addSubcommand(name, command(name));
            }
        }
        CommandLine serve = cli.getSubcommands().get(ServeCommand.NAME);
        if (serve != null) {
            serve.getCommandSpec().usageMessage().footer(ServeCommand.keysHelp());
        }
        cli.setParameterExceptionHandler((e, args) -> usageError(e.getCommandLine(),
                switchGivenAValue(e, args).orElse(e.getMessage())));
        // a usage mistake that shows only when a command runs (AdminCommand.UsageError): the same one line
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof AdminCommand.UsageError u) {
                return usageError(command, u.getMessage());
            }
            throw e;
        });
        return cli;
    }

    /** A usage error: one line saying what is wrong, one line with where help is; exit code 2. */
    private static int usageError(CommandLine command, String message) {
        PrintWriter err = command.getErr();
        err.println("berth: " + message);
        err.println("see '" + command.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return EXIT_CONFIG;
    }

    /** The same for a run without picocli ({@link AdminWithoutParsing}): {@code command} as help names it. */
    static int usageError(String command, String message) {
        System.err.println("berth: " + message);
        System.err.println("see '" + command + " --help'");
        return EXIT_CONFIG;
    }

    /**
     * A switch (a boolean option) given a value — {@code --regex 'v1.*'} or {@code --regex=v1.*} —
     * reads to picocli as a left-over argument or a bad boolean: say what the switch is instead.
     */
    static Optional<String> switchGivenAValue(CommandLine.ParameterException e, String[] args) {
        CommandLine.Model.CommandSpec spec = e.getCommandLine().getCommandSpec();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            CommandLine.Model.OptionSpec option = name.startsWith("--") ? spec.findOption(name) : null;
            if (option == null || option.arity().max() > 0 || option.usageHelp() || option.versionHelp()) {
                continue;
            }
            // followed by a word while a word is left over: that word was meant as the switch's value
            String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1)
                    : i + 1 < args.length && !args[i + 1].startsWith("-")
                    && e instanceof CommandLine.UnmatchedArgumentException ? args[i + 1] : null;
            if (value != null) {
                return Optional.of(name + " is a switch and takes no value, but '" + value
                        + "' was given. " + name + ": " + String.join(" ", option.description()));
            }
        }
        return Optional.empty();
    }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** No command: usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_CONFIG;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        // the image runs the classes, not the jar: its build passes the version (launcher/pom.xml)
        return v != null ? v : System.getProperty("berth.version", "dev");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + version()};
        }
    }
}
