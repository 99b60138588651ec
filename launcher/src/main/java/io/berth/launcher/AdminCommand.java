package io.berth.launcher;

import com.google.protobuf.MessageOrBuilder;
import io.berth.core.auth.PemKeys;
import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.UsageError;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code berth admin}: the gRPC admin API from the command line. Options {@code --server},
 * {@code --token} and {@code --json} may come before or after the subcommand. Exit codes: 0 done,
 * 1 the server said no (or could not be reached), 2 bad usage.
 */
final class AdminCommand {
    /** Exit code when the server refused a call or could not be reached. */
    static final int EXIT_SERVER = 1;

    static final String DEFAULT_SERVER = "127.0.0.1:5001";

    // every subcommand takes these, before or after its name
    static final Option SERVER = Option.value(
                    "HOST:PORT", "Admin API address (default: " + DEFAULT_SERVER + ").", "--server")
            .defaultValue(DEFAULT_SERVER)
            .inherited();
    static final Option TOKEN = Option.value(
                    "TOKEN", "Bearer token (default: $BERTH_ADMIN_TOKEN, which keeps it out " + "of ps).", "--token")
            .inherited();
    static final Option USER = Option.value(
                    "NAME",
                    "Log in as this user or robot:NAME, the password from "
                            + "$BERTH_ADMIN_PASSWORD (default: $BERTH_ADMIN_USER).",
                    "--user")
            .inherited();
    static final Option TLS = Option.flag("Speak TLS, trusting the system's certificate authorities.", "--tls")
            .inherited();
    static final Option TLS_CA = Option.value(
                    "FILE", "Speak TLS, trusting the CA certificates in FILE (PEM).", "--tls-ca")
            .path()
            .inherited();
    static final Option TLS_CERT = Option.value(
                    "FILE",
                    "Client certificate (PEM) for a server with " + "admin.tls.client-ca; with --tls-key.",
                    "--tls-cert")
            .path()
            .inherited();
    static final Option TLS_KEY = Option.value(
                    "FILE", "Private key (PEM: PKCS#8, SEC1 or PKCS#1) of --tls-cert.", "--tls-key")
            .path()
            .inherited();
    static final Option JSON = Option.flag("Print the server's answer as JSON instead of a table.", "--json")
            .inherited();

    private final String server;
    private final String token;
    private final String user;
    private final boolean tls;
    private final Path tlsCa;
    private final Path tlsCert;
    private final Path tlsKey;
    final boolean json;

    AdminCommand(Args args) {
        server = args.value(SERVER);
        token = args.value(TOKEN);
        user = args.value(USER);
        tls = args.isSet(TLS);
        tlsCa = args.path(TLS_CA);
        tlsCert = args.path(TLS_CERT);
        tlsKey = args.path(TLS_KEY);
        json = args.isSet(JSON);
    }

    static Command command() {
        return Command.named("admin")
                .standardHelp()
                .description(
                        "Administer a running registry over its gRPC admin API (docs/admin-api.md): repositories, "
                                + "tags and their history, manifests, retention, immutability, garbage collection, events.",
                        "Credentials: --token (or BERTH_ADMIN_TOKEN): one of the server's admin.tokens or a token of its "
                                + "token endpoint; or --user (or BERTH_ADMIN_USER) with BERTH_ADMIN_PASSWORD: a user or "
                                + "robot:NAME with the admin action.")
                .options(SERVER, TOKEN, USER, TLS, TLS_CA, TLS_CERT, TLS_KEY, JSON)
                .subcommands(
                        leaf(
                                "info",
                                "Show the server's version, start time, backends and repository count.",
                                Info::new),
                        AdminRepositories.command(),
                        AdminTags.command(),
                        AdminTags.Manifests.command(),
                        AdminPolicies.retention(),
                        AdminPolicies.immutability(),
                        AdminGc.command(),
                        AdminRobots.command(),
                        AdminProxy.command(),
                        AdminEvents.command())
                .footer("", "", "Exit codes: 0 done, 1 refused by or unreachable server, 2 bad usage.");
    }

    /** A group of admin subcommands: called alone, it shows its usage. */
    static Command group(String name, String description, Command... subcommands) {
        return Command.named(name).standardHelp().description(description).subcommands(subcommands);
    }

    /** An admin command that calls the server; {@code make} reads what it was given. */
    static Command leaf(String name, String description, Function<Args, Leaf> make) {
        return Command.named(name)
                .standardHelp()
                .description(description)
                .runs(args -> make.apply(args).execute());
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
            channel = NettyChannelBuilder.forAddress(host, port, credentials())
                    .eventLoopGroup(loop)
                    .channelType(NioSocketChannel.class)
                    .userAgent("berth-admin/" + Main.version())
                    .build();
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
                headers.put(
                        authorization,
                        "Basic "
                                + Base64.getEncoder()
                                        .encodeToString((u.trim() + ":" + password).getBytes(StandardCharsets.UTF_8)));
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
            String what = e.getStatus().getDescription() == null
                    ? ""
                    : ": " + e.getStatus().getDescription();
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
        return epochMillis == 0
                ? "-"
                : Instant.ofEpochMilli(epochMillis)
                        .truncatedTo(ChronoUnit.SECONDS)
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

    static final class Info extends Leaf {
        Info(Args args) {
            super(args);
        }

        @Override
        int work(Session s) {
            ServerInfo i = s.call().getServerInfo(GetServerInfoRequest.getDefaultInstance());
            admin.print(
                    i,
                    () -> table(
                            System.out,
                            List.of("VERSION", "STARTED", "BLOBS", "METADATA", "REPOSITORIES"),
                            List.of(List.of(
                                    i.getVersion(),
                                    time(i.getStartedAtEpochMillis()),
                                    i.getBlobStorage(),
                                    i.getMetadataStorage(),
                                    Long.toString(i.getRepositoryCount())))));
            return 0;
        }
    }

    /**
     * An admin command that calls the server: its work runs with a session, refusals become exit
     * codes. A {@link UsageError} leaves, to be printed as a usage error.
     */
    abstract static class Leaf {
        final AdminCommand admin;

        Leaf(Args args) {
            admin = new AdminCommand(args);
        }

        abstract int work(Session s) throws Exception;

        int execute() {
            return admin.run(this::work);
        }
    }
}
