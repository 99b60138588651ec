package io.berth.launcher.process;

import io.berth.testsupport.JavaProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code berth webhooks} as a separate process, for the process tests that need a relay. */
final class WebhooksRelay {
    private WebhooksRelay() {}

    /**
     * Starts {@code berth webhooks --config config} in {@code dir} and returns once it says it is
     * serving; a relay that exits or is not serving within 60 s is closed and reported with its output.
     */
    static JavaProcess start(Path dir, Path config) {
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of("--enable-native-access=ALL-UNNAMED"),
                List.of("webhooks", "--config", config.toString()),
                Map.of(),
                dir,
                dir.resolve("webhooks-" + System.nanoTime() + ".log"));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!p.output().contains("webhooks serving")) {
            if (!p.process().isAlive() || System.currentTimeMillis() > deadline) {
                String output = p.output();
                p.close();
                throw new IllegalStateException("berth webhooks did not start:\n" + output);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.close();
                throw new IllegalStateException("interrupted while berth webhooks started", e);
            }
        }
        return p;
    }
}
