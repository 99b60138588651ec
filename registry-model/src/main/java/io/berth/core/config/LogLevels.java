package io.berth.core.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;

/**
 * The {@code log.levels} syntax and the loggers it may not lower. Here, beside the configuration, so
 * that {@link BerthConfig} can check the key without the process's log set-up (which lives with the
 * launcher and knows Kafka).
 */
public final class LogLevels {
    /**
     * Loggers that write what goes over the wire at DEBUG and TRACE — HTTP/2 frames with their headers
     * and bytes (gRPC's frame logger wrote admin tokens, Basic credentials and part of a new robot's
     * secret), HTTP exchanges, SASL handshakes — and with it credentials: never below INFO, whatever
     * {@code log.level} or {@code log.levels} ask; their warnings and errors still show. The names are
     * those of the libraries shipped with Berth (shaded and unshaded gRPC alike); a name covers the
     * loggers under it.
     */
    public static final List<String> WIRE_LOGGERS = List.of(
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler",
            "io.grpc.netty.shaded.io.grpc.netty.NettyClientHandler",
            "io.grpc.netty.NettyServerHandler",
            "io.grpc.netty.NettyClientHandler",
            "io.grpc.netty.shaded.io.netty.handler.logging.LoggingHandler",
            "io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameLogger",
            "io.netty.handler.logging.LoggingHandler",
            "io.netty.handler.codec.http2.Http2FrameLogger",
            "io.helidon.webserver.http1.Http1LoggingConnectionListener",
            "io.helidon.http.http1.Http1LoggingConnectionListener",
            "io.helidon.webclient.http1.Http1LoggingConnectionListener",
            "org.apache.kafka.common.security",
            "okhttp3.OkHttpClient",
            "okhttp3.internal.http2.Http2",
            "sun.net.www.protocol.http.HttpURLConnection",
            "jdk.httpclient.HttpClient",
            "jdk.internal.httpclient",
            "javax.net.ssl");
    /** Whether {@code logger} is, or is under, one of the {@link #WIRE_LOGGERS}. */
    public static boolean wire(String logger) {
        for (String w : WIRE_LOGGERS) {
            if (logger.startsWith(w)
                    && (logger.length() == w.length()
                            || logger.charAt(w.length()) == '.'
                            || logger.charAt(w.length()) == '$')) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code log.levels}: entries {@code logger=level}, level one of error, warn, info, debug, trace,
     * off. A wire logger cannot go below INFO: that is refused, saying why.
     *
     * @throws IllegalArgumentException naming the entry and what is wrong with it
     */
    public static Map<String, Level> parse(List<String> entries) {
        Map<String, Level> out = new LinkedHashMap<>();
        for (String entry : entries) {
            int eq = entry.indexOf('=');
            String name = eq < 0 ? "" : entry.substring(0, eq).strip();
            String value = eq < 0 ? "" : entry.substring(eq + 1).strip().toLowerCase(Locale.ROOT);
            if (name.isEmpty() || !name.matches("[A-Za-z0-9_.$-]+")) {
                throw new IllegalArgumentException(
                        "'" + entry + "' is not <logger>=<level> (e.g. io.helidon.webserver=debug)");
            }
            Level l = switch (value) {
                case "error" -> Level.SEVERE;
                case "warn" -> Level.WARNING;
                case "info" -> Level.INFO;
                case "debug" -> Level.FINE;
                case "trace" -> Level.FINEST;
                case "off" -> Level.OFF;
                default ->
                    throw new IllegalArgumentException(
                            "'" + entry + "': the level is one of error, warn, info, " + "debug, trace, off");
            };
            if (wire(name) && l.intValue() < Level.INFO.intValue()) {
                throw new IllegalArgumentException("'" + entry + "': " + name + " writes requests with their "
                        + "credentials as they go over the wire below INFO, so it stays at INFO at most");
            }
            out.put(name, l);
        }
        return out;
    }

    private LogLevels() {}
}
