package io.berth.testsupport.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.berth.core.error.ErrorCode;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A whole response as {@link OciClient#send} returns it: status, headers, body. */
public record OciResponse(String method, String path, int status, HttpHeaders headers, byte[] body) {
    private static final JsonFactory JSON = new JsonFactory();

    /** The body as UTF-8 text. */
    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public Optional<String> header(String name) {
        return headers.firstValue(name);
    }

    /** The {@code Location} header, which must be there. */
    public String location() {
        return header("Location").orElseThrow(() -> new AssertionError("no Location in " + this));
    }

    /** Fails unless the status is {@code expected}; returns this response for more checks. */
    public OciResponse expect(int expected) {
        assertEquals(expected, status, this::toString);
        return this;
    }

    /**
     * Fails unless the status is {@code expected} and the body is the spec's error document naming
     * {@code code} as it goes on the wire ({@link ErrorCode#wireCode()}: PAYLOAD_TOO_LARGE is sent as
     * SIZE_INVALID). A status alone would pass a proxy's or a framework's error page.
     */
    public OciResponse expectError(int expected, ErrorCode code) {
        expect(expected);
        List<String> codes = errorCodes();
        assertTrue(codes.contains(code.wireCode()), () -> "expected " + code.wireCode() + " in " + codes + ": " + this);
        return this;
    }

    /** The {@code code} of each entry of the body's {@code errors} array; fails if the body is not that document. */
    public List<String> errorCodes() {
        List<String> codes = new ArrayList<>();
        try (JsonParser p = JSON.createParser(body)) {
            expectToken(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                if (!p.currentName().equals("errors")) {
                    p.nextToken();
                    p.skipChildren();
                    continue;
                }
                expectToken(p.nextToken(), JsonToken.START_ARRAY);
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken value = p.nextToken();
                        if (field.equals("code") && value == JsonToken.VALUE_STRING) {
                            codes.add(p.getText());
                        } else {
                            p.skipChildren();
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError("not an OCI error document: " + this, e);
        }
        return codes;
    }

    private void expectToken(JsonToken actual, JsonToken expected) {
        if (actual != expected) {
            throw new AssertionError("not an OCI error document: " + this);
        }
    }

    /** Method, path, status and up to 500 characters of the body: what a failed assertion shows. */
    @Override
    public String toString() {
        String text = text();
        return method + " " + path + " → " + status + " " + (text.length() > 500 ? text.substring(0, 500) + "…" : text);
    }
}
