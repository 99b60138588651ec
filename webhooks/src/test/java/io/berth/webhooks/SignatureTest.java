package io.berth.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SignatureTest {
    static final byte[] BODY = "{\"events\":[]}".getBytes(StandardCharsets.UTF_8);

    @Test
    void isTheHmacOfTimestampDotBodyAsReceiversComputeIt() {
        // python3: hmac.new(b"s3cret", b"1795770723." + body, hashlib.sha256).hexdigest()
        assertEquals(
                "sha256=0396550d2e454339fd8b874698bfc7ba3d6c7c769d0d9880d5b865f2a5ac38f6",
                Signature.sign("s3cret", 1795770723L, BODY));
    }

    @Test
    void verifyRefusesAnyChange() {
        String good = Signature.sign("s3cret", 1795770723L, BODY);
        assertTrue(Signature.verify("s3cret", "1795770723", BODY, good));
        assertFalse(Signature.verify("s3cret", "1795770724", BODY, good), "another timestamp: a replay");
        assertFalse(Signature.verify("other", "1795770723", BODY, good));
        assertFalse(
                Signature.verify("s3cret", "1795770723", "{\"events\":[1]}".getBytes(StandardCharsets.UTF_8), good));
        assertFalse(Signature.verify("s3cret", "not-a-number", BODY, good));
        assertFalse(Signature.verify("s3cret", "1795770723", BODY, good.toUpperCase()));
    }
}
