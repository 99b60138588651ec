package io.berth.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A logback configuration at WARN for child servers (S3Proxy logs at DEBUG otherwise, 3× slower). */
final class QuietLogging {
    private static Path config;

    private QuietLogging() {}

    static synchronized Path logbackConfig() {
        if (config == null) {
            try {
                config = Files.createTempFile("berth-logback-", ".xml");
                Files.writeString(config, """
                        <configuration>
                          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                            <encoder><pattern>%d %-5level %logger{36} - %msg%n</pattern></encoder>
                          </appender>
                          <root level="WARN"><appender-ref ref="OUT"/></root>
                        </configuration>
                        """);
                config.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return config;
    }
}
