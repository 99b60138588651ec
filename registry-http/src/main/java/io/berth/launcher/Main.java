package io.berth.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/berth}: one launcher for every Berth process. */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Berth container registry.",
        subcommands = {ServeCommand.class, Main.Replicate.class, Main.Webhooks.class, Main.Admin.class},
        footer = {"", "Run 'berth <command> --help' for a command's options."})
public final class Main implements Callable<Integer> {
    /** Exit code for configuration errors. */
    public static final int EXIT_CONFIG = 2;
    /** Exit code of commands this build does not contain. */
    public static final int EXIT_NOT_AVAILABLE = 3;

    static {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        cli.getSubcommands().get("serve").getCommandSpec().usageMessage().footer(ServeCommand.keysHelp());
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
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

    abstract static class NotAvailable implements Callable<Integer> {
        @Override
        public Integer call() {
            String name = getClass().getAnnotation(Command.class).name();
            System.err.println("berth " + name + ": not available in this build");
            return EXIT_NOT_AVAILABLE;
        }
    }

    @Command(name = "replicate", mixinStandardHelpOptions = true,
            description = "Mirror pushed content to remote registries (not available in this build).")
    static final class Replicate extends NotAvailable {
    }

    @Command(name = "webhooks", mixinStandardHelpOptions = true,
            description = "Deliver registry events to HTTP endpoints (not available in this build).")
    static final class Webhooks extends NotAvailable {
    }

    @Command(name = "admin", mixinStandardHelpOptions = true,
            description = "Administer a running registry over gRPC (not available in this build).")
    static final class Admin extends NotAvailable {
    }
}
