package io.berth.core.logging;

import java.util.Locale;

/**
 * One request as the access log records it; logged as the parameter of an INFO record of logger
 * {@code berth.access}, so that the text format prints a line and the JSON format its fields.
 *
 * @param method        request method
 * @param path          path with query string (secrets redacted)
 * @param status        status sent (499: the client went away)
 * @param requestBytes  request body bytes read
 * @param responseBytes response body bytes sent (headers not counted)
 * @param millis        time to serve
 * @param client        client address
 * @param user          the authenticated user or robot ({@code robot:ci}), or empty
 * @param userAgent     the client's User-Agent, or "-"
 * @param requestId     the request id
 * @param note          what else happened (e.g. "aborted=blob-unreadable"), or empty
 */
public record AccessRecord(
        String method,
        String path,
        int status,
        long requestBytes,
        long responseBytes,
        double millis,
        String client,
        String user,
        String userAgent,
        String requestId,
        String note) {

    /** The text form: {@code GET /v2/… 200 in=0 out=1234 1.2ms client=127.0.0.1 agent="docker/28" id=…}. */
    public String line() {
        return String.format(
                Locale.ROOT,
                "%s %s %d in=%d out=%d %.1fms client=%s%s agent=\"%s\" id=%s%s",
                method,
                path,
                status,
                requestBytes,
                responseBytes,
                millis,
                client,
                user.isEmpty() ? "" : " user=" + user,
                userAgent.replace("\"", "'"),
                requestId,
                note.isEmpty() ? "" : " " + note);
    }
}
