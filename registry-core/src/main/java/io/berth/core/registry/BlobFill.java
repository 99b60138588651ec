package io.berth.core.registry;

import io.berth.core.error.RegistryException;
import io.berth.core.model.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A blob a pull-through cache is fetching from its upstream, readable while it arrives. The fill's
 * thread hands every chunk it reads from the upstream to {@link #arrived} (after hashing it, before
 * storing it) and never waits for readers; readers copy from a window of the last {@link #WINDOW}
 * bytes. A reader that fell behind the window goes on from what the fill has written so far, where the
 * store can read an upload while it is written (the filesystem: the page cache holds it), and else
 * waits for the commit and goes on from the stored blob, so memory stays bounded whatever the blob's
 * size and the readers' speed, and a reader slower than the upstream for a moment does not stall.
 *
 * <p>Bytes before verification: the last {@link #HOLD_BACK} bytes of the blob, and of every reader's own
 * range (all of a smaller one), are released only once the digest and the length matched and the blob
 * was stored. A blob that does not match therefore never reaches a
 * reader whole: on a mismatch, a short body or an upstream error every reader's stream fails ({@link
 * FillFailedException}) before its end, and the HTTP layer cuts the response it announced in full.
 */
public final class BlobFill {
    /** The tail withheld until the bytes are verified (all of a smaller blob). */
    static final int HOLD_BACK = 64 * 1024;
    /** Memory per fill shared by its readers. */
    static final int WINDOW = 1 << 20;
    /**
     * How long a reader ahead of what is written waits before it looks again. Only the fill's end wakes
     * it earlier: the file grows a write buffer (up to 2 MiB) at a time, so a chunk's arrival says
     * nothing about it, and a look per chunk would be a file system call per chunk for every reader.
     */
    private static final long WRITE_POLL_MILLIS = 5;

    /** Opens the stored blob once the fill committed it (readers that fell behind the window). */
    interface StoredBlob {
        InputStream open(long offset, long length) throws IOException;
    }

    /** The bytes the fill has written so far, readable while it goes on writing. */
    interface Staged {
        /** How many bytes are written, in order from the first. */
        long written() throws IOException;

        /** {@code length} written bytes from {@code offset}. */
        InputStream open(long offset, long length) throws IOException;
    }

    private final BlobInfo blob;
    private final StoredBlob stored;
    private final byte[] window;
    private long received;
    private boolean committed;
    private RegistryException failure;
    private Staged staged;
    /** Readers waiting for the next write wait here, not on the fill: no chunk wakes them. */
    private final Object writes = new Object();
    /** Committed or failed (readers waiting for a write look here). */
    private volatile boolean ended;

    BlobFill(Digest digest, long size, StoredBlob stored) {
        this.blob = new BlobInfo(digest, size);
        this.stored = Objects.requireNonNull(stored, "stored");
        this.window = new byte[(int) Math.max(1, Math.min(WINDOW, size))];
    }

    /** The blob as the upstream announced it (digest and length). */
    public BlobInfo blob() {
        return blob;
    }

    /** Bytes received from the upstream so far (tests, figures). */
    public synchronized long received() {
        return received;
    }

    /** The fill's thread: bytes as they arrive from the upstream, in order. */
    synchronized void arrived(byte[] b, int off, int len) {
        int done = 0;
        while (done < len) {
            int at = (int) ((received + done) % window.length);
            int n = Math.min(len - done, window.length - at);
            System.arraycopy(b, off + done, window, at, n);
            done += n;
        }
        received += len;
        notifyAll();
    }

    /** The fill's thread: where the bytes it writes can be read while it writes them. */
    synchronized void staging(Staged written) {
        this.staged = Objects.requireNonNull(written, "written");
        notifyAll();
    }

    /** The fill's thread: verified, stored and recorded; every byte may be released. */
    synchronized void committed() {
        committed = true;
        notifyAll();
        endWrites();
    }

    /** The fill's thread: the bytes were wrong, short, or did not arrive; nothing was kept. */
    synchronized void failed(RegistryException e) {
        failure = e;
        notifyAll();
        endWrites();
    }

    private void endWrites() {
        synchronized (writes) {
            ended = true;
            writes.notifyAll();
        }
    }

    /** Waits until the blob is stored; its failure when the fill failed. */
    public synchronized BlobInfo awaitStored() {
        boolean interrupted = false;
        try {
            while (!committed && failure == null) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure != null) {
            throw failure;
        }
        return blob;
    }

    /** {@code length} bytes from {@code offset}, as they are released. */
    public InputStream open(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > blob.size()) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside " + blob.size());
        }
        return new Reader(offset, offset + length);
    }

    /** A reader's stream failed because the fill failed: the response must not look complete. */
    public static final class FillFailedException extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient RegistryException failure;

        FillFailedException(RegistryException failure) {
            super(failure.getMessage(), failure);
            this.failure = failure;
        }

        /** What the client would have been told had nothing been sent yet. */
        public RegistryException failure() {
            return failure;
        }
    }

    private final class Reader extends InputStream {
        private final long start;
        private final long end;
        private long position;
        private InputStream fromStore;
        private InputStream fromStaged; // written bytes up to stagedEnd, while the fill goes on
        private long stagedEnd;

        Reader(long offset, long end) {
            this.start = offset;
            this.position = offset;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (position >= end) {
                return -1;
            }
            while (fromStore == null) {
                if (fromStaged != null) {
                    int n = readStaged(b, off, len);
                    if (n > 0) {
                        return n;
                    }
                }
                Staged written;
                long released;
                synchronized (BlobFill.this) {
                    while (true) {
                        if (failure != null) {
                            throw new FillFailedException(failure);
                        }
                        if (position >= end) {
                            return -1;
                        }
                        released = released();
                        if (position < received - window.length) {
                            if (committed) {
                                written = null;
                                break; // fell behind the window: the stored blob has the rest
                            }
                            if (staged != null && position < released) {
                                written = staged;
                                break; // fell behind the window: what the fill wrote has it
                            }
                        } else if (position < released) {
                            int at = (int) (position % window.length);
                            int n = (int) Math.min(
                                    Math.min(len, released - position), Math.min(end - position, window.length - at));
                            System.arraycopy(window, at, b, off, n);
                            position += n;
                            return n;
                        }
                        try {
                            BlobFill.this.wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted while waiting for blob " + blob.digest(), e);
                        }
                    }
                }
                if (written == null) {
                    fromStore = stored.open(position, end - position);
                    break;
                }
                // outside the lock: the fill's thread never waits for a reader's disk
                try {
                    long upTo = Math.min(released, written.written());
                    if (upTo > position) {
                        stagedEnd = upTo;
                        fromStaged = written.open(position, upTo - position);
                    } else {
                        awaitWrite();
                    }
                } catch (IOException e) {
                    stagedFailed(e);
                }
            }
            int n = fromStore.read(b, off, (int) Math.min(len, end - position));
            if (n > 0) {
                position += n;
            }
            return n;
        }

        /**
         * The bytes this reader may have so far: the tail of the blob and of its own range only once
         * verified, as a range that ended before verification would be a complete answer of unverified
         * bytes.
         */
        private long released() {
            return committed ? blob.size() : Math.min(received, Math.max(start, end - HOLD_BACK));
        }

        /** From what the fill wrote: bytes read, or 0 when that range is done or ended with the fill. */
        private int readStaged(byte[] b, int off, int len) throws IOException {
            try {
                int n = fromStaged.read(b, off, (int) Math.min(len, stagedEnd - position));
                if (n > 0) {
                    position += n;
                    if (position >= stagedEnd) {
                        closeStaged();
                    }
                    return n;
                }
                closeStaged();
                return 0;
            } catch (IOException e) {
                closeStaged();
                stagedFailed(e);
                return 0;
            }
        }

        /**
         * The written bytes could not be read: the fill is ending (the commit renames the staging file
         * before it records the blob and says so, a failed fill deletes it before it says so), or the
         * disk failed. Neither is the blob's damage, nor a reason to cut this response while the fill
         * may still store the blob: the reader waits for the fill's end, as it did before it could read
         * what is written, and goes on from the stored blob, or fails with the fill's failure.
         */
        private void stagedFailed(IOException e) throws IOException {
            synchronized (BlobFill.this) {
                while (failure == null && !committed) {
                    try {
                        BlobFill.this.wait();
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        IOException io = new IOException("interrupted while waiting for blob " + blob.digest(), e);
                        io.addSuppressed(interrupted);
                        throw io;
                    }
                }
                if (failure != null) {
                    throw new FillFailedException(failure);
                }
            }
        }

        /** Behind the window but ahead of what is written (the write in flight): a poll, or the fill's end. */
        private void awaitWrite() throws IOException {
            synchronized (writes) {
                if (!ended) {
                    try {
                        writes.wait(WRITE_POLL_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while waiting for blob " + blob.digest(), e);
                    }
                }
            }
        }

        private void closeStaged() throws IOException {
            InputStream s = fromStaged;
            fromStaged = null;
            if (s != null) {
                s.close();
            }
        }

        @Override
        public void close() throws IOException {
            try {
                closeStaged();
            } finally {
                if (fromStore != null) {
                    fromStore.close();
                }
            }
        }
    }
}
