package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.config.LogLevels;
import io.berth.core.logging.Redaction;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Which loggers {@code log.level} and {@code log.levels} raise, and what every line is cleaned of. */
class LogFormatTest {
    @AfterEach
    void restore() throws IOException {
        LogManager.getLogManager().readConfiguration();
    }

    @Test
    void debugRaisesBerthsLoggersOnlyAndWireLoggersNeverGoBelowInfo() {
        LogFormat.configure("debug", "text", List.of("io.grpc=trace", "io.helidon.webserver=debug"));
        assertTrue(Logger.getLogger("berth.auth").isLoggable(Level.FINE));
        assertTrue(Logger.getLogger("io.berth.core.registry.Uploads").isLoggable(Level.FINE));
        // libraries stay at INFO, whatever log.level says
        assertFalse(Logger.getLogger("org.apache.kafka.clients.producer.KafkaProducer")
                .isLoggable(Level.FINE));
        assertFalse(Logger.getLogger("com.example.SomeLibrary").isLoggable(Level.FINE));
        assertTrue(Logger.getLogger("com.example.SomeLibrary").isLoggable(Level.INFO));
        // ... unless asked per logger
        assertTrue(Logger.getLogger("io.helidon.webserver.ConnectionHandler").isLoggable(Level.FINE));
        assertTrue(Logger.getLogger("io.grpc.internal.ServerImpl").isLoggable(Level.FINEST));
        // gRPC's frame logger wrote Authorization headers and robot secrets at FINE: never below INFO
        Logger frames = Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler");
        assertFalse(frames.isLoggable(Level.FINE));
        assertTrue(frames.isLoggable(Level.WARNING));
        assertFalse(
                Logger.getLogger("sun.net.www.protocol.http.HttpURLConnection").isLoggable(Level.FINE));
        // and its records are dropped by the handler even when a library lowers the level itself
        frames.setLevel(Level.ALL);
        LogRecord r = new LogRecord(Level.FINE, "INBOUND HEADERS: authorization: Bearer abc");
        r.setLoggerName(frames.getName());
        assertFalse(Logger.getLogger("").getHandlers()[0].getFilter().isLoggable(r));
    }

    @Test
    void infoKeepsLibrariesAtWarning() {
        LogFormat.configure("info", "text");
        assertTrue(Logger.getLogger("berth").isLoggable(Level.INFO));
        assertFalse(Logger.getLogger("berth").isLoggable(Level.FINE));
        assertFalse(Logger.getLogger("io.helidon.webserver.LoomServer").isLoggable(Level.INFO));
        assertTrue(Logger.getLogger("io.helidon.webserver.LoomServer").isLoggable(Level.WARNING));
    }

    @Test
    void levelsOfSingleLoggersAreCheckedAndWireLoggersCannotBeRaised() {
        assertEquals(Level.FINEST, LogLevels.parse(List.of("io.helidon=trace")).get("io.helidon"));
        assertEquals(
                Level.OFF,
                LogLevels.parse(List.of("io.grpc.netty.NettyServerHandler=off"))
                        .get("io.grpc.netty.NettyServerHandler"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> LogLevels.parse(List.of("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler=debug")));
        assertTrue(e.getMessage().contains("stays at INFO at most"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LogLevels.parse(List.of("okhttp3.OkHttpClient=trace")));
        assertThrows(IllegalArgumentException.class, () -> LogLevels.parse(List.of("io.helidon")));
        assertThrows(IllegalArgumentException.class, () -> LogLevels.parse(List.of("io.helidon=verbose")));
    }

    @Test
    void everyLineIsCleanedOfWhatLooksLikeACredential() {
        String secret = "berth_3J0aZ9_xk-Qm7pLw2VbN8cRt5YhUe1sDfGj4KoMiTq0";
        String hex = HexFormat.of().formatHex(secret.substring(0, 25).getBytes());
        String line = new LogFormat(false)
                .format(record("INBOUND HEADERS: headers=[:path: /x, authorization: Bearer "
                        + "adm1n-token, user-agent: grpc] DATA bytes=00000000570a" + hex + "... created " + secret));
        assertFalse(line.contains("adm1n-token") || line.contains(secret.substring(6, 14)) || line.contains(hex), line);
        assertTrue(
                line.contains("authorization: REDACTED")
                        && line.contains("created berth_REDACTED")
                        && line.contains("62657274685fREDACTED"),
                line);
        String json = new LogFormat(true)
                .format(record("{\"access_token\":\"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
                        + ".c2lnbmF0dXJlLXNpZ25hdHVyZQ\"} Basic YWxpY2U6c2VjcmV0 password=hunter22&next=1"));
        assertFalse(
                json.contains("eyJzdWIiOiJhbGljZSJ9") || json.contains("YWxpY2U6c2VjcmV0") || json.contains("hunter22"),
                json);
        assertTrue(json.contains("next=1"), json);
        // a URL's user information, as a misconfigured endpoint prints it at start-up
        assertEquals(
                "S3 endpoint http://REDACTED@127.0.0.1:1: refused, jdbc:postgresql://REDACTED@db/berth?user=u&"
                        + "password=REDACTED",
                Redaction.redact("S3 endpoint http://AKIAUSER:S3SECRET2@127.0.0.1:1: refused, "
                        + "jdbc:postgresql://u:PGSECRET1@db/berth?user=u&password=PGSECRET1"));
        // an AWS secret key holds '/'; a reference with a digest is no user information
        assertEquals(
                "s3://REDACTED@bucket docker://alpine@sha256:" + "a".repeat(64),
                Redaction.redact(
                        "s3://AKIAEXAMPLE:wJal/K7MDENG/bPxRfiCY@bucket docker://alpine@sha256:" + "a".repeat(64)));
        // a JAAS line quotes its values
        assertEquals(
                "PlainLoginModule required username=\"ku\" password=\"REDACTED\";",
                Redaction.redact("PlainLoginModule required username=\"ku\" password=\"KAFKASECRET4\";"));
        // ordinary lines pass unchanged
        String plain = "GET /v2/team/app/blobs/sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
                + " 200 in=0 out=2 1.0ms client=127.0.0.1 user=robot:ci agent=\"docker/28\" id=r-1; challenge "
                + "Basic realm=\"berth\"";
        assertEquals(plain, Redaction.redact(plain));
        Redaction.secret("configured-admin-token-1");
        assertEquals("token REDACTED given", Redaction.redact("token configured-admin-token-1 given"));
        Redaction.secret("abc");
        assertEquals("abc", Redaction.redact("abc"), "too short to be masked literally");
    }

    private static LogRecord record(String message) {
        LogRecord r = new LogRecord(Level.FINE, message);
        r.setLoggerName("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler");
        return r;
    }
}
