package io.berth.launcher.process;

import io.berth.proto.admin.v1.RegistryAdminGrpc;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.oci.OciClient;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** {@code berth serve} as a separate process, on free ports, in its own working directory. */
public final class BerthProcess implements AutoCloseable {
    final int httpPort;
    final int adminPort;
    final Path workDir;
    final JavaProcess process;
    private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();

    private BerthProcess(int httpPort, int adminPort, Path workDir, JavaProcess process) {
        this.httpPort = httpPort;
        this.adminPort = adminPort;
        this.workDir = workDir;
        this.process = process;
    }

    static BerthProcess start(Path workDir, List<String> jvmArgs, Map<String, String> env, String... args) {
        return start(workDir, FreePorts.next(), jvmArgs, env, args);
    }

    static BerthProcess start(
            Path workDir, int httpPort, List<String> jvmArgs, Map<String, String> env, String... args) {
        int adminPort = FreePorts.next();
        Map<String, String> e = new HashMap<>();
        e.put("BERTH_HTTP_PORT", Integer.toString(httpPort));
        e.put("BERTH_ADMIN_PORT", Integer.toString(adminPort));
        e.put("BERTH_HTTP_SHUTDOWN_GRACE", "0s"); // tests that need the grace set it

        e.putAll(env);
        List<String> a = new ArrayList<>(List.of("serve"));
        a.addAll(List.of(args));
        List<String> jvm = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        jvm.addAll(jvmArgs);
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main", jvm, a, e, workDir, workDir.resolve("berth-" + System.nanoTime() + ".log"));
        BerthProcess b = new BerthProcess(httpPort, adminPort, workDir, p);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!p.output().contains(" serving http")) {
            if (!p.process().isAlive() || System.currentTimeMillis() > deadline) {
                String out = p.output();
                p.close();
                throw new IllegalStateException("berth serve did not start:\n" + out);
            }
            sleep(50);
        }
        return b;
    }

    /**
     * The JVM options {@code bin/berth} runs {@code serve} with by default (its {@code DEFAULT_JAVA_OPTS}
     * line: heap, collector, what an OutOfMemoryError does), for tests about what the shipped
     * defaults withstand.
     */
    public static List<String> defaultJvmOptions() {
        try {
            for (String line : Files.readAllLines(Path.of("..", "bin", "berth"))) {
                if (line.startsWith("DEFAULT_JAVA_OPTS=\"")) {
                    return List.of(line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'))
                            .split(" +"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("bin/berth has no DEFAULT_JAVA_OPTS line");
    }

    /** The server's process id. */
    long pid() {
        return process.process().pid();
    }

    /** Resident memory of the server process now, in bytes (Linux: VmRSS). */
    long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            return -1; // gone
        }
        return -1;
    }

    /**
     * The class path bin/berth gives {@code berth admin}: the launcher's classes and only the jars of
     * {@code target/admin-lib} (launcher/pom.xml), so that every admin command a test runs shows that
     * nothing it needs is missing there.
     */
    static String adminClassPath() {
        Path target = Path.of("target").toAbsolutePath();
        if (!Files.isDirectory(target.resolve("admin-lib"))) {
            throw new IllegalStateException("no " + target.resolve("admin-lib") + ": the build makes it before the"
                    + " tests (mvn process-test-classes)");
        }
        return target.resolve("classes") + File.pathSeparator + target.resolve("admin-lib") + "/*";
    }

    /** Runs {@code berth <args>} to completion; returns exit code and output. {@code admin} runs as bin/berth runs it. */
    static Result run(Path workDir, Map<String, String> env, String... args) throws InterruptedException {
        Path log = workDir.resolve("run-" + System.nanoTime() + ".log");
        List<String> jvm = List.of("--enable-native-access=ALL-UNNAMED");
        JavaProcess p = args.length > 0 && args[0].equals("admin")
                ? JavaProcess.start(adminClassPath(), "io.berth.launcher.Main", jvm, List.of(args), env, workDir, log)
                : JavaProcess.start("io.berth.launcher.Main", jvm, List.of(args), env, workDir, log);
        if (!p.process().waitFor(60, TimeUnit.SECONDS)) {
            p.close();
            throw new IllegalStateException("berth " + String.join(" ", args) + " did not finish");
        }
        return new Result(p.process().exitValue(), p.output());
    }

    record Result(int exitCode, String output) {}

    /** A client of the admin API with {@code token}; its channel closes with this process. */
    RegistryAdminGrpc.RegistryAdminBlockingStub admin(String token) {
        return adminAs("Bearer " + token);
    }

    /** A client of the admin API sending this {@code authorization} value (Bearer or Basic). */
    RegistryAdminGrpc.RegistryAdminBlockingStub adminAs(String authorization) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", adminPort)
                .usePlaintext()
                .build();
        channels.add(channel);
        Metadata auth = new Metadata();
        auth.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        return RegistryAdminGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth));
    }

    String base() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** An anonymous OCI client of this instance. */
    OciClient oci() {
        return OciClient.of(base());
    }

    /** SIGTERM, then waits for the exit code. */
    int terminate() throws InterruptedException {
        process.process().destroy();
        if (!process.process().waitFor(60, TimeUnit.SECONDS)) {
            process.process().destroyForcibly();
            return -1;
        }
        return process.process().exitValue();
    }

    String output() {
        return process.output();
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        process.close();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
