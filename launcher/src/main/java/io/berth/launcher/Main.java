package io.berth.launcher;

import io.berth.core.logging.LogFormat;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/berth}: one launcher for every Berth process. */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        usageHelpWidth = Main.HELP_WIDTH, usageHelpAutoWidth = false,
        description = "Berth container registry: the OCI distribution API, events, replication and an admin API.",
        subcommands = {ServeCommand.class, ReplicateCommand.class, WebhooksCommand.class, AdminCommand.class},
        footer = {"", "Run 'berth <command> --help' for a command's options."})
public final class Main implements Callable<Integer> {
    /** Exit code for configuration and usage errors. */
    public static final int EXIT_CONFIG = 2;
    /** Help is rendered for this many columns, whatever the terminal. */
    static final int HELP_WIDTH = 80;

    public static void main(String[] args) {
        LogFormat.configure("info", "text");
        System.exit(commandLine().execute(args));
    }

    /** The command line with Berth's help and error conventions (used by tests to render help). */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.getSubcommands().get("serve").getCommandSpec().usageMessage().footer(ServeCommand.keysHelp());
        cli.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("berth: " + e.getMessage());
            String name = e.getCommandLine().getCommandSpec().qualifiedName();
            err.println("see '" + name + " --help'");
            err.flush();
            return EXIT_CONFIG;
        });
        return cli;
    }

    /** No command: usage on stderr, exit 2. */
    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return EXIT_CONFIG;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"berth " + version()};
        }
    }
}
