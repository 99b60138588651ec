package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.JavaProcess;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a {@code berth admin} call loads, on the class path bin/berth gives it (launcher/pom.xml "admin-lib"). */
class AdminStartTest {
    /**
     * What made a call slow (docs/benchmarks.md): picocli (its classes are never in the AOT cache;
     * gone from the build since) and Jackson, which logging loaded for nothing. A call reads its
     * command line with Berth's own parser and loads no Jackson.
     */
    @Test
    void anAdminCallIsReadByBerthsParserAndLoadsNoJackson(@TempDir Path dir) throws Exception {
        Path classes = dir.resolve("classes.log");
        long start = System.nanoTime();
        Path target = Path.of("target").toAbsolutePath();
        String adminClassPath = target.resolve("classes") + File.pathSeparator + target.resolve("admin-lib")
                + "/*"; // as bin/berth runs admin
        try (JavaProcess p = JavaProcess.start(
                adminClassPath,
                "io.berth.launcher.Main",
                List.of("-Xlog:class+load:file=" + classes),
                List.of("admin", "--server", "127.0.0.1:1", "--json", "info"),
                Map.of("BERTH_ADMIN_TOKEN", "t"),
                dir,
                dir.resolve("admin.log"))) {
            assertTrue(p.process().waitFor(120, TimeUnit.SECONDS));
            assertEquals(1, p.process().exitValue(), p.output());
            assertTrue(p.output().contains("cannot reach the admin API at 127.0.0.1:1"), p.output());
        }
        List<String> loaded = Files.readAllLines(classes).stream()
                .map(l -> l.replaceFirst("^\\[[^]]*]\\[[^]]*]\\[[^]]*] ", "").split(" ")[0])
                .toList();
        System.out.println("berth admin info (unreachable server, no AOT cache): " + loaded.size() + " classes, "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertTrue(loaded.contains("io.berth.launcher.cli.Parser"), "read by Berth's parser");
        assertTrue(
                loaded.stream().noneMatch(c -> c.startsWith("com.fasterxml.jackson.databind.")),
                "Jackson is not loaded: "
                        + loaded.stream().filter(c -> c.contains("jackson")).toList());
    }
}
