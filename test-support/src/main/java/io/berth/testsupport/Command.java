package io.berth.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** An outside program (docker, skopeo, tar…) run to completion, and what it printed. */
public record Command(int exitCode, String output) {

    /** Runs {@code cmd} with extra environment variables; a timeout or start failure is exit code -1. */
    public static Command run(List<String> cmd, Map<String, String> env, long timeoutSeconds) {
        try {
            Path out = Files.createTempFile("berth-cmd-", ".log");
            try {
                ProcessBuilder pb =
                        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Command(-1, "timed out: " + cmd + "\n" + Files.readString(out));
                }
                return new Command(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            return new Command(-1, "cannot run " + cmd + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Command(-1, "interrupted");
        }
    }

    public static Command run(String... cmd) {
        return run(List.of(cmd), Map.of(), 600);
    }

    /** Whether {@code program} is an executable on PATH (or in the sbin directories). */
    public static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
