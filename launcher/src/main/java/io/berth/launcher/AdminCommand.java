package io.berth.launcher;

import com.google.protobuf.MessageOrBuilder;
import io.berth.core.auth.PemKeys;
import io.berth.proto.admin.v1.GetServerInfoRequest;
import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.proto.admin.v1.ServerInfo;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code berth admin}: the gRPC admin API from the command line. Options {@code --server},
 * {@code --token} and {@code --json} may come before or after the subcommand. Exit codes: 0 done,
 * 1 the server said no (or could not be reached), 2 bad usage.
 */
@Command(name = "admin", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        usageHelpAutoWidth = false,
        description = {"Administer a running registry over its gRPC admin API (docs/admin-api.md): repositories, "
                + "tags and their history, manifests, retention, immutability, garbage collection.",
                "Credentials: --token (or BERTH_ADMIN_TOKEN): one of the server's admin.tokens or a token of its token "
                        + "endpoint; or --user (or BERTH_ADMIN_USER) with BERTH_ADMIN_PASSWORD: a user or robot:NAME "
                        + "with the admin action."},
        subcommands = {AdminCommand.Info.class, AdminRepositories.class, AdminTags.class, AdminTags.Manifests.class,
                AdminPolicies.Retention.class, AdminPolicies.Immutability.class, AdminGc.class, AdminRobots.class},
        footer = {"", "Exit codes: 0 done, 1 refused by or unreachable server, 2 bad usage."})
public final class AdminCommand implements Callable<Integer> {
    /** Exit code when the server refused a call or could not be reached. */
    static final int EXIT_SERVER = 1;

    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:5001",
            scope = CommandLine.ScopeType.INHERIT, description = "Admin API address (default: ${DEFAULT-VALUE}).")
    String server;

    @Option(names = "--token", paramLabel = "TOKEN", scope = CommandLine.ScopeType.INHERIT,
            description = "Bearer token (default: $BERTH_ADMIN_TOKEN, which keeps it out of ps).")
    String token;

    @Option(names = "--user", paramLabel = "NAME", scope = CommandLine.ScopeType.INHERIT,
            description = "Log in as this user or robot:NAME, the password from $BERTH_ADMIN_PASSWORD (default: "
                    + "$BERTH_ADMIN_USER).")
    String user;

    @Option(names = "--tls", scope = CommandLine.ScopeType.INHERIT,
            description = "Speak TLS, trusting the system's certificate authorities.")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Speak TLS, trusting the CA certificates in FILE (PEM).")
    Path tlsCa;

    @Option(names = "--tls-cert", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Client certificate (PEM) for a server with admin.tls.client-ca; with --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Private key (PEM: PKCS#8, SEC1 or PKCS#1) of --tls-cert.")
    Path tlsKey;

    @Option(names = "--json", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the server's answer as JSON instead of a table.")
    boolean json;

    @CommandLine.Spec
    CommandSpec groupSpec;

    @Override
    public Integer call() {
        groupSpec.commandLine().usage(System.err);
        return Main.EXIT_CONFIG;
    }

    /** The admin command an admin subcommand belongs to. */
    static AdminCommand of(CommandSpec spec) {
        for (CommandSpec s = spec; s != null; s = s.parent()) {
            if (s.userObject() instanceof AdminCommand a) {
                return a;
            }
        }
        throw new IllegalStateException("not under 'berth admin'");
    }

    /** A connection for one command. */
    final class Session implements AutoCloseable {
        private static final String NO_NATIVE = "io.grpc.netty.shaded.io.netty.transport.noNative";
        final ManagedChannel channel;
        private final EventLoopGroup loop;
        final RegistryAdminGrpc.RegistryAdminBlockingStub stub;
        final RegistryAdminGrpc.RegistryAdminStub async;

        Session() {
            String address = server.trim();
            int colon = address.lastIndexOf(':');
            if (colon <= 0) {
                throw new UsageError("--server '" + server + "' must be HOST:PORT");
            }
            String host = address.substring(0, colon).replace("[", "").replace("]", "");
            int port;
            try {
                port = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageError("--server '" + server + "' must be HOST:PORT");
            }
            // NIO (no native transport to unpack) on an event loop of our own, ended before the JVM exits:
            // the JVM waits 300 ms at exit for a thread blocked in native code, as netty's selector is
            if (System.getProperty(NO_NATIVE) == null) {
                System.setProperty(NO_NATIVE, "true");
            }
            loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            channel = NettyChannelBuilder.forAddress(host, port, credentials()).eventLoopGroup(loop)
                    .channelType(NioSocketChannel.class).userAgent("berth-admin/" + Main.version()).build();
            Metadata headers = new Metadata();
            if (token != null && !token.isBlank()) {
                // a command line is readable by every local user for as long as the command runs
                System.err.println("berth: warning: a token given with --token is visible to other local users "
                        + "(ps, /proc/<pid>/cmdline); set BERTH_ADMIN_TOKEN instead");
            }
            String t = token != null ? token : System.getenv("BERTH_ADMIN_TOKEN");
            String u = user != null ? user : System.getenv("BERTH_ADMIN_USER");
            Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
            if (u != null && !u.isBlank() && token == null) {
                String password = System.getenv("BERTH_ADMIN_PASSWORD");
                if (password == null) {
                    throw new UsageError("--user needs the password in BERTH_ADMIN_PASSWORD");
                }
                headers.put(authorization, "Basic " + Base64.getEncoder().encodeToString(
                        (u.trim() + ":" + password).getBytes(StandardCharsets.UTF_8)));
            } else if (t != null && !t.isBlank()) {
                headers.put(authorization, "Bearer " + t.trim());
            }
            var interceptor = MetadataUtils.newAttachHeadersInterceptor(headers);
            stub = RegistryAdminGrpc.newBlockingStub(channel).withInterceptors(interceptor);
            async = RegistryAdminGrpc.newStub(channel).withInterceptors(interceptor);
        }

        private ChannelCredentials credentials() {
            if (!tls && tlsCa == null && tlsCert == null) {
                return InsecureChannelCredentials.create();
            }
            try {
                TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
                if (tlsCa != null) {
                    b.trustManager(tlsCa.toFile());
                }
                if (tlsCert != null || tlsKey != null) {
                    if (tlsCert == null || tlsKey == null) {
                        throw new UsageError("--tls-cert and --tls-key go together");
                    }
                    b.keyManager(PemKeys.keyManagers(tlsCert, tlsKey));
                }
                return b.build();
            } catch (IOException | GeneralSecurityException e) {
                throw new UsageError("cannot read the TLS files: " + e.getMessage());
            }
        }

        RegistryAdminGrpc.RegistryAdminBlockingStub call() {
            return stub.withDeadlineAfter(5, TimeUnit.MINUTES);
        }

        @Override
        public void close() {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
                loop.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Something a command does with a session; its exit code. */
    @FunctionalInterface
    interface Work {
        int run(Session session) throws Exception;
    }

    /** Runs {@code work} with a session; the server's refusals are one line and exit code 1. */
    int run(Work work) {
        try (Session s = new Session()) {
            return work.run(s);
        } catch (StatusRuntimeException e) {
            String what = e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription();
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                System.err.println("berth admin: cannot reach the admin API at " + server + what);
            } else {
                System.err.println("berth admin: " + e.getStatus().getCode() + what);
            }
            return EXIT_SERVER;
        } catch (UsageError e) {
            throw e;
        } catch (Exception e) {
            System.err.println("berth admin: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return EXIT_SERVER;
        }
    }

    /**
     * A mistake in how the command was called that only shows once it runs (a value out of its set,
     * options that go together): one line and exit code 2, as picocli's own usage errors.
     */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    /** Prints a message as JSON (with --json, {@link AdminJson}) or runs the table printer. */
    void print(MessageOrBuilder message, Runnable table) {
        if (json) {
            System.out.println(AdminJson.print(message));
        } else {
            table.run();
        }
    }

    // ---- table helpers

    /** Prints aligned columns; the last column is not padded. */
    static void table(PrintStream out, List<String> headers, List<List<String>> rows) {
        int[] width = new int[headers.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        for (List<String> r : all) {
            for (int i = 0; i < r.size(); i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        for (List<String> r : all) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                b.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + width[i] + "s  ", r.get(i)));
            }
            out.println(b.toString().stripTrailing());
        }
    }

    static String time(long epochMillis) {
        return epochMillis == 0 ? "-" : Instant.ofEpochMilli(epochMillis).truncatedTo(ChronoUnit.SECONDS)
                .toString();
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** The first 19 characters of a digest's hex ({@code sha256:0123456789ab}). */
    static String shortDigest(String digest) {
        int colon = digest.indexOf(':');
        return colon < 0 || digest.length() < colon + 13 ? digest : digest.substring(0, colon + 13);
    }

    @Command(name = "info", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Show the server's version, start time, backends and repository count.")
    static final class Info extends Leaf {
        @Override
        int work(Session s) {
            ServerInfo i = s.call().getServerInfo(GetServerInfoRequest.getDefaultInstance());
            admin.print(i, () -> table(System.out, List.of("VERSION", "STARTED", "BLOBS", "METADATA",
                    "REPOSITORIES"), List.of(List.of(i.getVersion(), time(i.getStartedAtEpochMillis()),
                    i.getBlobStorage(), i.getMetadataStorage(), Long.toString(i.getRepositoryCount())))));
            return 0;
        }
    }

    /** A group of admin subcommands: called alone, it shows its usage. */
    abstract static class Group implements Callable<Integer> {
        @CommandLine.Spec
        CommandSpec groupSpec;

        @Override
        public Integer call() {
            groupSpec.commandLine().usage(System.err);
            return Main.EXIT_CONFIG;
        }
    }

    /**
     * An admin command that calls the server: its work runs with a session, refusals become exit codes.
     * picocli calls {@link #call()}; {@link AdminWithoutParsing} sets {@link #admin} and calls
     * {@link #execute()}. A {@link UsageError} leaves either way, to be printed as a usage error.
     */
    abstract static class Leaf implements Callable<Integer> {
        @CommandLine.Spec
        CommandSpec spec;
        AdminCommand admin;

        abstract int work(Session s) throws Exception;

        @Override
        public Integer call() {
            admin = of(spec);
            return execute();
        }

        int execute() {
            return admin.run(this::work);
        }
    }
}
