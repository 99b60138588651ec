package io.berth.http;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;

/** Header names of the distribution API. */
public final class OciHeaders {
    public static final HeaderName API_VERSION = HeaderNames.create("Docker-Distribution-API-Version");
    public static final HeaderName CONTENT_DIGEST = HeaderNames.create("Docker-Content-Digest");
    public static final HeaderName UPLOAD_UUID = HeaderNames.create("Docker-Upload-UUID");
    public static final HeaderName RANGE = HeaderNames.create("Range");
    public static final HeaderName CONTENT_RANGE = HeaderNames.create("Content-Range");
    public static final HeaderName OCI_SUBJECT = HeaderNames.create("OCI-Subject");
    public static final HeaderName OCI_TAG = HeaderNames.create("OCI-Tag");
    public static final HeaderName OCI_FILTERS_APPLIED = HeaderNames.create("OCI-Filters-Applied");
    public static final HeaderName REQUEST_ID = HeaderNames.create("X-Request-Id");
    /** How a pull-through cache answered: hit, miss, revalidated, refreshed or stale (docs/proxy.md). */
    public static final HeaderName BERTH_CACHE = HeaderNames.create("X-Berth-Cache");

    public static final HeaderName CHUNK_MIN_LENGTH = HeaderNames.create("OCI-Chunk-Min-Length");

    private OciHeaders() {}

    /** The {@code Range} value of an upload holding {@code size} bytes ({@code 0-0} when empty, as Distribution). */
    public static String range(long size) {
        return "0-" + Math.max(0, size - 1);
    }
}
