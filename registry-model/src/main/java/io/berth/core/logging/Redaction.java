package io.berth.core.logging;

import io.berth.core.model.RobotSecret;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The last line of defence between a secret and a log: every line Berth writes (application and
 * access logs, text and JSON, stack traces) passes through {@link #redact}. It masks what a
 * credential looks like wherever it appears — the value of an {@code Authorization} header,
 * {@code Bearer}/{@code Basic} credentials, JWTs, anything carrying Berth's secret prefix
 * ({@value RobotSecret#PREFIX}, robot secrets), also hex-encoded as frame dumps show it,
 * {@code password=}/{@code token=}-style values — and the literal secrets of the configuration
 * ({@link #secret}: admin tokens, storage and database passwords). Libraries that would write
 * credentials are kept quiet in the first place (the launcher's {@code LogFormat}); this catches what
 * slips through.
 */
public final class Redaction {
    /** What a masked value is replaced by. */
    public static final String MASK = "REDACTED";
    /** Shorter configured secrets are not masked literally: they would mask ordinary words. */
    static final int MIN_LITERAL = 6;

    private static final String PREFIX = RobotSecret.PREFIX;
    private static final String PREFIX_HEX = HexFormat.of().formatHex(PREFIX.getBytes(StandardCharsets.US_ASCII));

    /**
     * One pass, alternatives in order: an Authorization header's value (with or without its scheme),
     * a Bearer/Basic credential, a JWT, Berth's prefix followed by 8 or more secret characters (plain or
     * as hex), {@code name=value} or JSON {@code "name":"value"} where the name says secret, and the
     * user information of a URL ({@code http://user:password@host}).
     */
    private static final Pattern SECRETS = Pattern.compile(
            "(?<auth>(?i:authorization)\"?\\s*[:=]\\s*\"?)(?:(?i:bearer|basic|token|digest|negotiate)\\s+)?[^\\s,;\"'\\]}]+"
                    + "|(?<scheme>\\b(?i:bearer|basic)\\s+)(?!realm=)[A-Za-z0-9._~+/=-]{4,}"
                    + "|\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}(?:\\.[A-Za-z0-9_-]*)?"
                    + "|(?<prefix>" + Pattern.quote(PREFIX) + ")[A-Za-z0-9_-]{8,}"
                    + "|(?<hex>(?i:" + PREFIX_HEX + "))[0-9A-Fa-f]{2,}"
                    + "|(?<kv>\\b[\\w.-]*(?i:password|passwd|secret|token|credential)[\\w.-]*(?:=\"?|\"\\s*:\\s*\"))[^\\s&\",;]+"
                    + "|(?<userinfo>\\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\\s@:]*:[^\\s@]+@");

    private static final Set<String> LITERALS = ConcurrentHashMap.newKeySet();

    private Redaction() {}

    /**
     * Registers a configured secret (an admin token, a storage or database password, a webhook
     * secret) to be masked wherever it appears; values shorter than {@value #MIN_LITERAL} characters
     * are masked only where the patterns catch them.
     */
    public static void secret(String value) {
        if (value != null && value.strip().length() >= MIN_LITERAL) {
            LITERALS.add(value.strip());
        }
    }

    /** {@code text} with every secret it carries masked. */
    public static String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String literal : LITERALS) {
            if (out.contains(literal)) {
                out = out.replace(literal, MASK);
            }
        }
        Matcher m = SECRETS.matcher(out);
        if (!m.find()) {
            return out;
        }
        StringBuilder b = new StringBuilder(out.length());
        do {
            String kept = m.group("auth") != null
                    ? m.group("auth")
                    : m.group("scheme") != null
                            ? m.group("scheme")
                            : m.group("prefix") != null
                                    ? m.group("prefix")
                                    : m.group("hex") != null
                                            ? m.group("hex")
                                            : m.group("kv") != null
                                                    ? m.group("kv")
                                                    : m.group("userinfo") != null ? m.group("userinfo") : "";
            m.appendReplacement(b, Matcher.quoteReplacement(kept + MASK + (m.group("userinfo") != null ? "@" : "")));
        } while (m.find());
        m.appendTail(b);
        return b.toString();
    }

    /**
     * {@code out} with every line printed through it redacted: for a process's stderr, where
     * start-up failures, usage errors and uncaught exceptions are printed without the log formatter
     * (a PostgreSQL URL with {@code password=} or an S3 endpoint with user information, as given).
     * Log records reach stderr through the formatter, which has redacted them already.
     */
    public static PrintStream stream(PrintStream out) {
        return new PrintStream(out, true, Charset.defaultCharset()) {
            @Override
            public void print(String s) {
                super.print(redact(s));
            }
        };
    }
}
