package io.berth.testsupport.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.core.error.ErrorCode;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link OciResponse#expectError} passes only the spec's error document with the code, at the status. */
class OciResponseTest {
    static OciResponse response(int status, String body) {
        return new OciResponse(
                "GET",
                "/v2/x/blobs/sha256:0",
                status,
                HttpHeaders.of(Map.of(), (a, b) -> true),
                body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anErrorDocumentWithTheCodeAtTheStatusPasses() {
        OciResponse r = response(404, """
                {"errors":[{"code":"NAME_UNKNOWN","message":"m","detail":{"code":"not this"}},
                 {"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":{}}]}""");
        assertEquals(List.of("NAME_UNKNOWN", "BLOB_UNKNOWN"), r.errorCodes());
        r.expectError(404, ErrorCode.BLOB_UNKNOWN);
    }

    @Test
    void theCodeIsComparedAsItGoesOnTheWire() {
        response(413, "{\"errors\":[{\"code\":\"SIZE_INVALID\",\"message\":\"\"}]}")
                .expectError(413, ErrorCode.PAYLOAD_TOO_LARGE);
    }

    @Test
    void anotherStatusAnotherCodeOrAnotherBodyFails() {
        String blobUnknown = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"\"}]}";
        assertThrows(AssertionError.class, () -> response(400, blobUnknown).expectError(404, ErrorCode.BLOB_UNKNOWN));
        assertThrows(AssertionError.class, () -> response(404, blobUnknown).expectError(404, ErrorCode.NAME_UNKNOWN));
        assertThrows(
                AssertionError.class,
                () -> response(404, "<html>Not Found</html>").expectError(404, ErrorCode.BLOB_UNKNOWN));
        assertThrows(
                AssertionError.class,
                () -> response(404, "{\"message\":\"BLOB_UNKNOWN\"}").expectError(404, ErrorCode.BLOB_UNKNOWN));
    }
}
