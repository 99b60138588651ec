package io.berth.http;

import io.berth.core.blob.BlobReadException;
import io.berth.core.error.StorageFailures;
import io.berth.core.model.Digest;
import io.berth.core.registry.BlobFill;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.BlobSource;
import io.berth.core.registry.Blobs;
import io.berth.core.registry.CachedBlob;
import io.berth.core.registry.Registry;
import io.berth.http.helidon.HelidonFastPaths;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** {@code /v2/<name>/blobs/<digest>}: GET (with ranges), HEAD, DELETE. */
final class BlobHandlers {
    /** Small enough to stay in the CPU cache between the file read and the socket write (measured: bin/bench). */
    private static final int COPY_BUFFER = 256 * 1024;
    /** Bytes of a zero-copy response that go out with its headers through Helidon. */
    private static final int FIRST_CHUNK = 64 * 1024;

    private static final System.Logger LOG = System.getLogger(BlobHandlers.class.getName());

    private final Registry registry;
    private final HttpMetrics metrics;

    private final HelidonFastPaths fastPaths;

    BlobHandlers(Registry registry, HttpMetrics metrics, HelidonFastPaths fastPaths) {
        this.registry = registry;
        this.metrics = metrics;
        this.fastPaths = fastPaths;
    }

    void head(V2Request v2, ServerRequest req, ServerResponse res) {
        BlobInfo blob = stat(v2, req, res, false);
        commonHeaders(res, blob);
        if (Responses.notModified(req, res, etag(blob))) {
            return;
        }
        res.header(HeaderNames.CONTENT_LENGTH, Long.toString(blob.size()));
        res.send();
    }

    /**
     * The blob as the repository serves it; a pull-through cache's (fetched and stored first for a GET
     * when it is not cached yet) is then served by the same paths as any other.
     */
    private BlobInfo stat(V2Request v2, ServerRequest req, ServerResponse res, boolean get) {
        Digest digest = Digest.parse(v2.segment());
        if (!registry.proxy().proxied(v2.repository())) {
            return registry.blobs().stat(v2.repository(), digest);
        }
        CachedBlob cached = registry.proxy().blobHead(Requests.caller(req), v2.repository(), digest);
        res.header(OciHeaders.BERTH_CACHE, cached.outcome().header());
        return cached.blob();
    }

    void get(V2Request v2, ServerRequest req, ServerResponse res) throws IOException {
        BlobInfo blob;
        if (registry.proxy().proxied(v2.repository())) {
            BlobSource source =
                    registry.proxy().pull(Requests.caller(req), v2.repository(), Digest.parse(v2.segment()));
            res.header(OciHeaders.BERTH_CACHE, source.outcome().header());
            if (source instanceof BlobSource.Filling filling) {
                getFilling(req, res, filling.fill());
                return;
            }
            blob = source.blob();
        } else {
            blob = stat(v2, req, res, true);
        }
        if (Requests.header(req, HeaderNames.IF_NONE_MATCH).isPresent()) {
            commonHeaders(res, blob);
            if (Responses.notModified(req, res, etag(blob))) {
                return;
            }
        }
        Optional<URI> elsewhere = registry.blobs().redirect(v2.repository(), blob);
        if (elsewhere.isPresent()) {
            // storage.s3.redirect: the client fetches the bytes (ranges included) from the store itself
            res.status(Status.TEMPORARY_REDIRECT_307);
            res.header(OciHeaders.CONTENT_DIGEST, blob.digest().toString());
            res.header(HeaderNames.LOCATION, elsewhere.get().toString());
            res.header(HeaderNames.CONTENT_LENGTH, "0");
            res.send();
            return;
        }
        long offset = 0;
        long length = blob.size();
        Optional<ByteRange> range =
                Requests.header(req, HeaderNames.RANGE).flatMap(h -> ByteRange.parse(h, blob.size()));
        if (range.isPresent() && !range.get().satisfiable()) {
            // no caching headers: a shared cache must not keep a refusal as if it were the blob
            res.status(Status.REQUESTED_RANGE_NOT_SATISFIABLE_416);
            res.header(HeaderNames.ACCEPT_RANGES, "bytes");
            res.header(HeaderNames.CONTENT_RANGE, "bytes */" + blob.size());
            res.send();
            return;
        }
        if (range.isPresent()) {
            offset = range.get().start();
            length = range.get().length();
        }
        if (blob.size() <= Blobs.SMALL_BLOB) {
            // read (or found in memory) before any header is set, then sent in one write
            byte[] body;
            try {
                body = registry.blobs().readSmall(v2.repository(), blob, offset, (int) length);
            } catch (UncheckedIOException e) {
                if (e.getCause() instanceof BlobReadException unreadable) {
                    throw readFailed(req, res, blob, 0, length, unreadable);
                }
                throw e;
            }
            commonHeaders(res, blob);
            range.ifPresent(r -> partial(res, r, blob));
            res.send(body);
            metrics.blobBytesSent(false, body.length);
            return;
        }
        Optional<HelidonFastPaths.FileSender> socket = fastPaths.fileSender(req);
        if (socket.isPresent()) {
            Optional<FileChannel> file = openWhole(v2, blob, offset + length);
            if (file.isPresent()) {
                try (FileChannel fc = file.get()) {
                    commonHeaders(res, blob);
                    range.ifPresent(r -> partial(res, r, blob));
                    res.contentLength(length);
                    sendFile(req, res, blob, fc, offset, length, socket.get());
                }
                return;
            }
        }
        // open before any header is set: a blob missing from storage is still a clean 404
        try (InputStream in = length == 0
                ? InputStream.nullInputStream()
                : registry.blobs().open(v2.repository(), blob, offset, length)) {
            commonHeaders(res, blob);
            range.ifPresent(r -> partial(res, r, blob));
            res.contentLength(length);
            if (length == 0) {
                res.send();
                return;
            }
            copy(req, res, blob, in, length);
        }
    }

    /**
     * A blob still arriving from the upstream: its announced length, then its bytes as the fill releases
     * them (never sendfile: there is no whole file yet). A fill that fails before any byte went out is
     * answered as its error; after that the connection is cut, so the client sees a short body, never a
     * complete wrong one.
     */
    private void getFilling(ServerRequest req, ServerResponse res, BlobFill fill) throws IOException {
        BlobInfo blob = fill.blob();
        long offset = 0;
        long length = blob.size();
        Optional<ByteRange> range =
                Requests.header(req, HeaderNames.RANGE).flatMap(h -> ByteRange.parse(h, blob.size()));
        if (range.isPresent() && !range.get().satisfiable()) {
            res.status(Status.REQUESTED_RANGE_NOT_SATISFIABLE_416);
            res.header(HeaderNames.ACCEPT_RANGES, "bytes");
            res.header(HeaderNames.CONTENT_RANGE, "bytes */" + blob.size());
            res.send();
            return;
        }
        if (range.isPresent()) {
            offset = range.get().start();
            length = range.get().length();
        }
        if (length == 0) {
            // an empty body is complete at once: only once the (announced) empty blob was verified
            fill.awaitStored();
        }
        commonHeaders(res, blob);
        range.ifPresent(r -> partial(res, r, blob));
        res.contentLength(length);
        if (length == 0) {
            res.send();
            return;
        }
        try (InputStream in = fill.open(offset, length)) {
            OutputStream out = res.outputStream();
            byte[] buf = new byte[(int) Math.min(COPY_BUFFER, length)];
            long sent = 0;
            try {
                while (sent < length) {
                    int n;
                    try {
                        n = in.read(buf, 0, (int) Math.min(buf.length, length - sent));
                        if (n < 0) {
                            throw new BlobReadException(
                                    blob.digest(), "ended after " + sent + " of " + length + " bytes", null);
                        }
                    } catch (BlobFill.FillFailedException e) {
                        if (res.bytesWritten() == 0) {
                            throw e.failure(); // nothing sent: the upstream's error, as an OCI error
                        }
                        RequestLog.aborted(req, "blob fill failed");
                        throw new CloseConnectionException("blob " + blob.digest() + " fill failed mid-response", e);
                    } catch (IOException e) {
                        throw readFailed(req, res, blob, sent, length, e);
                    }
                    try {
                        out.write(buf, 0, n);
                        out.flush(); // the client has what arrived, not what a buffer waited for
                    } catch (IOException | UncheckedIOException | ServerConnectionException e) {
                        throw clientGone(req, "client stopped reading after " + sent + " of " + length + " bytes", e);
                    }
                    sent += n;
                }
            } finally {
                metrics.blobBytesSent(false, sent);
            }
            out.close();
        }
    }

    private static void partial(ServerResponse res, ByteRange r, BlobInfo blob) {
        res.status(Status.PARTIAL_CONTENT_206);
        res.header(HeaderNames.CONTENT_RANGE, "bytes " + r.start() + "-" + r.end() + "/" + blob.size());
    }

    /**
     * Streams exactly {@code length} bytes. The output stream is closed only when all of them were
     * sent: closing it earlier would complete the response as if the body were whole. A storage
     * failure before any byte reached the socket is still answered as an error; after that the
     * connection is aborted, so the client sees a broken transfer, never a short "complete" one.
     */
    private void copy(ServerRequest req, ServerResponse res, BlobInfo blob, InputStream in, long length)
            throws IOException {
        OutputStream out = res.outputStream();
        byte[] buf = new byte[(int) Math.min(COPY_BUFFER, length)];
        long sent = 0;
        try {
            while (sent < length) {
                int n;
                try {
                    n = in.read(buf, 0, (int) Math.min(buf.length, length - sent));
                    if (n < 0) {
                        throw new BlobReadException(
                                blob.digest(), "ended after " + sent + " of " + length + " bytes", null);
                    }
                } catch (IOException e) {
                    throw readFailed(req, res, blob, sent, length, e);
                }
                try {
                    out.write(buf, 0, n);
                } catch (IOException | UncheckedIOException | ServerConnectionException e) {
                    throw clientGone(req, "client stopped reading after " + sent + " of " + length + " bytes", e);
                }
                sent += n;
            }
        } finally {
            metrics.blobBytesSent(false, sent);
        }
        out.close();
    }

    /**
     * The blob's file, opened, when the store keeps it as one and it holds at least {@code end}
     * bytes; empty otherwise (the streaming path then answers a missing or damaged file as it should).
     */
    private Optional<FileChannel> openWhole(V2Request v2, BlobInfo blob, long end) {
        Optional<Path> path = registry.blobs().localFile(v2.repository(), blob);
        if (path.isEmpty()) {
            return Optional.empty();
        }
        FileChannel fc = null;
        try {
            fc = FileChannel.open(path.get(), StandardOpenOption.READ);
            if (fc.size() >= end) {
                return Optional.of(fc);
            }
        } catch (IOException unreadable) {
            // answered by the streaming path
        }
        closeQuietly(fc);
        return Optional.empty();
    }

    /**
     * As {@link #copy}, zero copy: the first bytes go through Helidon's response (with the headers),
     * the rest with sendfile straight to the connection's socket, behind them.
     */
    private void sendFile(
            ServerRequest req,
            ServerResponse res,
            BlobInfo blob,
            FileChannel fc,
            long offset,
            long length,
            HelidonFastPaths.FileSender socket)
            throws IOException {
        ByteBuffer first = ByteBuffer.allocate((int) Math.min(FIRST_CHUNK, length));
        try {
            while (first.hasRemaining()) {
                if (fc.read(first, offset + first.position()) < 0) {
                    throw new BlobReadException(
                            blob.digest(), "ended after " + first.position() + " of " + length + " bytes", null);
                }
            }
        } catch (IOException e) {
            throw readFailed(req, res, blob, 0, length, e);
        }
        OutputStream out = res.outputStream();
        try {
            out.write(first.array(), 0, first.limit());
            out.flush();
        } catch (IOException | UncheckedIOException | ServerConnectionException e) {
            throw clientGone(req, "client stopped reading after 0 of " + length + " bytes", e);
        }
        long sent = first.limit();
        metrics.blobBytesSent(true, sent);
        // past Helidon's writer: the connection's send watch (http.min-send-rate) times the sendfile loop
        BodyWatchdog.Watch watch = ConnectionGuard.sendWatch();
        boolean cut = false;
        try {
            if (watch != null) {
                watch.reading();
            }
            socket.send(fc, offset + sent, length - sent, n -> {
                metrics.blobBytesSent(true, n);
                if (watch != null) {
                    watch.progress(n);
                }
            });
        } catch (HelidonFastPaths.ReadFailure e) {
            // a cut for a slow reader interrupts this thread, and an interrupted transferTo closes the
            // blob's channel: that is the client's doing, not a storage failure
            cut = watch != null && watch.done();
            if (cut) {
                throw clientGone(req, watch.why(), e);
            }
            throw readFailed(req, res, blob, sent, length, e);
        } catch (IOException e) {
            cut = watch != null && watch.done();
            throw clientGone(req, cut ? watch.why() : "client stopped reading a blob of " + length + " bytes", e);
        } finally {
            if (watch != null && !cut && watch.done()) {
                throw clientGone(req, watch.why(), null);
            }
        }
        out.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // nothing to do
        }
    }

    /**
     * The client went away while its body was being sent: the response cannot become an error answer
     * any more, so the connection is closed — counted and logged as a client abort (499, one line).
     */
    private static RuntimeException clientGone(ServerRequest req, String why, Exception cause) {
        BerthHttpServer.clientAborted(req, why);
        return new CloseConnectionException(why, cause);
    }

    private RuntimeException readFailed(
            ServerRequest req, ServerResponse res, BlobInfo blob, long sent, long length, IOException e) {
        metrics.blobReadFailed();
        LOG.log(
                System.Logger.Level.ERROR,
                "blob " + blob.digest() + " of " + req.path().absolute().rawPath()
                        + " could not be read after " + sent + " of " + length + " bytes, id=" + RequestLog.id(req)
                        + ": "
                        + e.getMessage());
        if (res.bytesWritten() == 0) {
            // nothing reached the client yet: answer with an error instead of a broken body
            return StorageFailures.of("blob " + blob.digest() + " could not be read", e);
        }
        RequestLog.aborted(req, "blob unreadable");
        return new CloseConnectionException("blob " + blob.digest() + " unreadable mid-response", e);
    }

    void delete(V2Request v2, ServerRequest req, ServerResponse res) {
        registry.blobs().delete(Requests.caller(req), v2.repository(), Digest.parse(v2.segment()));
        res.status(Status.ACCEPTED_202);
        res.send();
    }

    private static String etag(BlobInfo blob) {
        return "\"" + blob.digest() + "\"";
    }

    private static void commonHeaders(ServerResponse res, BlobInfo blob) {
        res.header(OciHeaders.CONTENT_DIGEST, blob.digest().toString());
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        res.header(HeaderNames.ACCEPT_RANGES, "bytes");
        res.header(HeaderNames.ETAG, etag(blob));
        res.header(HeaderNames.CACHE_CONTROL, "max-age=31536000");
    }
}
