package io.berth.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.config.LogLevels;
import io.berth.core.logging.AccessRecord;
import io.berth.core.logging.LogContext;
import io.berth.core.logging.Redaction;
import io.berth.eventstream.KafkaLinkLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.ConsoleHandler;
import java.util.logging.Filter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * How every Berth process logs: one line per record on stderr, as text
 * ({@code 2026-11-27T09:00:00.123Z INFO logger: message id=…}) or as JSON for log shippers
 * ({@code timestamp, level, logger, message, request_id} and, for access records, their fields).
 * Libraries' own chatter (Helidon's start-up banner, gRPC, Kafka) is kept at WARNING unless
 * {@code log.level} is {@code debug}, and never goes below INFO unless {@code log.levels} asks for a
 * logger; loggers that write what goes over the wire stay off. Every line passes through
 * {@link Redaction}.
 */
public final class LogFormat extends Formatter {
    /** Loaded with the first JSON line only: Jackson's classes cost a short command (berth admin) 0.1 s. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Loggers of libraries whose INFO messages are not the operator's business. */
    private static final String[] LIBRARIES = {
        "io.helidon",
        "io.grpc",
        "org.apache.kafka",
        "io.netty",
        "org.sqlite",
        "com.zaxxer",
        "org.flywaydb",
        "io.minio",
        "okhttp3"
    };
    /** Berth's own loggers: the only ones {@code log.level} raises below INFO. */
    private static final String[] BERTH = {"berth", "io.berth"};

    private static final Map<String, Logger> KEEP = new ConcurrentHashMap<>();

    private final boolean json;

    public LogFormat(boolean json) {
        this.json = json;
    }

    /** As {@link #configure(String, String, List)} without loggers of their own levels. */
    public static void configure(String level, String format) {
        configure(level, format, List.of());
    }

    /**
     * Configures the JDK logging every library here reports into: one stderr handler with this
     * format; Berth's loggers at {@code level}; libraries at WARNING (INFO when {@code level} is
     * debug: their start-up messages, never their debug output, which writes request headers and
     * frames); then {@code loggers} ({@code name=level}, {@code log.levels}); and the
     * {@link LogLevels#WIRE_LOGGERS} at INFO at most.
     *
     * @param level   error, warn, info or debug
     * @param format  text or json
     * @param loggers {@code io.helidon.webserver=debug}, … (see {@link LogLevels#parse})
     * @throws IllegalArgumentException when an entry of {@code loggers} is not {@code name=level}
     */
    public static void configure(String level, String format, List<String> loggers) {
        Map<String, Level> levels = LogLevels.parse(loggers);
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Level berth = julLevel(level);
        Handler handler = new ConsoleHandler();
        handler.setLevel(Level.ALL);
        handler.setFormatter(new LogFormat("json".equals(format)));
        // a wire logger's debug record never reaches the handler, even from a library that sets levels
        // itself; while Kafka is away its clients warn twice a second: one line when it goes, one when back
        Filter kafkaLink = KafkaLinkLog.get().filter();
        handler.setFilter(r -> (r.getLevel().intValue() >= Level.INFO.intValue()
                        || r.getLoggerName() == null
                        || !LogLevels.wire(r.getLoggerName()))
                && kafkaLink.isLoggable(r));
        root.addHandler(handler);
        Level libraries = berth.intValue() <= Level.FINE.intValue() ? Level.INFO : Level.WARNING;
        if (libraries.intValue() < berth.intValue()) {
            libraries = berth;
        }
        // everything that is not Berth's (and not listed below) stays at INFO at most
        root.setLevel(berth.intValue() < Level.INFO.intValue() ? Level.INFO : berth);
        for (String name : LIBRARIES) {
            keep(name).setLevel(libraries);
        }
        for (String name : BERTH) {
            keep(name).setLevel(berth);
        }
        levels.forEach((name, l) -> keep(name).setLevel(l));
        for (String name : LogLevels.WIRE_LOGGERS) {
            Logger wire = keep(name);
            if (wire.getLevel() == null || wire.getLevel().intValue() < Level.INFO.intValue()) {
                wire.setLevel(Level.INFO);
            }
        }
    }

    /** Loggers are weakly held: the configured ones are kept, or their levels would be forgotten. */
    private static Logger keep(String name) {
        return KEEP.computeIfAbsent(name, Logger::getLogger);
    }

    static Level julLevel(String level) {
        return switch (level.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            case "debug" -> Level.FINE;
            default -> Level.INFO;
        };
    }

    static String levelName(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (v >= Level.INFO.intValue()) {
            return "INFO";
        }
        return "DEBUG";
    }

    @Override
    public String format(LogRecord r) {
        String message = formatMessage(r);
        String requestId = LogContext.requestId();
        AccessRecord access = r.getParameters() != null
                        && r.getParameters().length == 1
                        && r.getParameters()[0] instanceof AccessRecord a
                ? a
                : null;
        if (access != null) {
            message = access.line();
            requestId = access.requestId();
        }
        String thrown = r.getThrown() == null ? null : stackTrace(r.getThrown());
        if (!json) {
            StringBuilder b = new StringBuilder(TIME.format(r.getInstant()))
                    .append(' ')
                    .append(levelName(r.getLevel()))
                    .append(' ')
                    .append(r.getLoggerName())
                    .append(": ")
                    .append(message);
            if (requestId != null && access == null && !message.contains("id=" + requestId)) {
                b.append(" id=").append(requestId);
            }
            b.append('\n');
            if (thrown != null) {
                b.append(thrown);
            }
            return Redaction.redact(b.toString());
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("timestamp", TIME.format(r.getInstant()));
        line.put("level", levelName(r.getLevel()));
        line.put("logger", r.getLoggerName());
        line.put("message", message);
        if (requestId != null) {
            line.put("request_id", requestId);
        }
        if (access != null) {
            line.put("method", access.method());
            line.put("path", access.path());
            line.put("status", access.status());
            line.put("request_bytes", access.requestBytes());
            line.put("response_bytes", access.responseBytes());
            line.put("duration_ms", Math.round(access.millis() * 10) / 10.0);
            line.put("client", access.client());
            if (!access.user().isEmpty()) {
                line.put("user", access.user());
            }
            line.put("user_agent", access.userAgent());
            if (!access.note().isEmpty()) {
                line.put("note", access.note());
            }
        }
        if (thrown != null) {
            line.put("exception", thrown);
        }
        line.replaceAll((k, v) -> v instanceof String text ? Redaction.redact(text) : v);
        try {
            return Json.MAPPER.writeValueAsString(line) + "\n";
        } catch (JsonProcessingException e) {
            return "{\"level\":\"ERROR\",\"message\":\"unloggable record\"}\n";
        }
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    /** For tests: the instant format used. */
    static String time(Instant i) {
        return TIME.format(i);
    }
}
