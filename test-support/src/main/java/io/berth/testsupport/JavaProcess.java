package io.berth.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Java program started as a separate process on the test's own class path (so servers such as
 * Kafka and S3Proxy run from Maven-resolved jars without sharing the test JVM), with its output in
 * a log file. Killed when the test JVM exits.
 */
public final class JavaProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private JavaProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static String javaBinary() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    public static JavaProcess start(
            String mainClass,
            List<String> jvmArgs,
            List<String> args,
            Map<String, String> env,
            Path workDir,
            Path log) {
        return start(System.getProperty("java.class.path"), mainClass, jvmArgs, args, env, workDir, log);
    }

    /** As {@link #start(String, List, List, Map, Path, Path)}, on a class path of the caller's. */
    public static JavaProcess start(
            String classPath,
            String mainClass,
            List<String> jvmArgs,
            List<String> args,
            Map<String, String> env,
            Path workDir,
            Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        try {
            Files.createDirectories(workDir);
            Process p = pb.start();
            JavaProcess jp = new JavaProcess(p, log);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> p.destroyForcibly()));
            return jp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a server program and waits until it listens on {@code port}; fails with its output when it
     * does not within a minute.
     */
    public static JavaProcess startServer(
            String what, String mainClass, List<String> jvmArgs, List<String> args, Path workDir, int port) {
        JavaProcess p = start(
                classPathWith(mainClass), mainClass, jvmArgs, args, Map.of(), workDir, workDir.resolve(what + ".log"));
        // the server's working directory is scratch: remove it once the server is gone
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            p.close();
            deleteTree(workDir);
        }));
        if (!FreePorts.waitForListener(port, 60_000)) {
            p.close();
            throw new IllegalStateException(what + " did not open port " + port + ":\n" + p.output());
        }
        return p;
    }

    /**
     * This JVM's class path when it holds {@code mainClass}; else the servers' class path (S3Proxy, Kafka)
     * that test-support's build wrote into its jar ({@value #SERVERS_CLASS_PATH}), so that any module's
     * tests can start them without depending on the servers' jars themselves.
     */
    static String classPathWith(String mainClass) {
        String own = System.getProperty("java.class.path");
        try {
            Class.forName(mainClass, false, JavaProcess.class.getClassLoader());
            return own;
        } catch (ClassNotFoundException e) {
            return serversClassPath() + File.pathSeparator + own;
        }
    }

    /** Written by test-support's pom ({@code dependency:build-classpath}); absolute paths on this machine. */
    static final String SERVERS_CLASS_PATH = "servers.classpath";

    static String serversClassPath() {
        try (InputStream in = JavaProcess.class.getResourceAsStream(SERVERS_CLASS_PATH)) {
            if (in == null) {
                throw new IllegalStateException("io/berth/testsupport/" + SERVERS_CLASS_PATH + " is missing from "
                        + "test-support's jar: build test-support with mvn");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException io) {
            throw new UncheckedIOException(io);
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: a temporary directory
        }
    }

    public Process process() {
        return process;
    }

    public Path log() {
        return log;
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
