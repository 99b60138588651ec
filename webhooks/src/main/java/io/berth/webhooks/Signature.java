package io.berth.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a delivery: {@code X-Berth-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." +
 * body>} with the endpoint's secret, and the timestamp in {@code X-Berth-Timestamp}, so that a
 * captured delivery cannot be replayed later (receivers reject old timestamps).
 */
public final class Signature {
    public static final String HEADER = "X-Berth-Signature";
    public static final String TIMESTAMP_HEADER = "X-Berth-Timestamp";
    public static final String EVENT_ID_HEADER = "X-Berth-Event-Id";
    /** The event's CloudEvents type ({@code io.berth.tag.created}): what the Distribution envelope cannot say. */
    public static final String EVENT_TYPE_HEADER = "X-Berth-Event-Type";

    private Signature() {}

    public static String sign(String secret, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** What a receiver does: recompute and compare in constant time. */
    public static boolean verify(String secret, String timestamp, byte[] body, String signature) {
        try {
            String expected = sign(secret, Long.parseLong(timestamp), body);
            return MessageDigest.isEqual(
                    expected.getBytes(StandardCharsets.UTF_8), signature.getBytes(StandardCharsets.UTF_8));
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
