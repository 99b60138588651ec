package io.berth.core.registry;

import io.berth.core.model.Digest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bytes of small blobs (configs, small layers), least recently used out, bounded in bytes. Every
 * node of a cluster pulls the same configs; from storage each pull costs an open, a read and a close —
 * blocking calls that take a carrier thread away from other requests. Blobs are content-addressed and
 * verified when an entry is filled, so an entry is never stale or wrong; one is served only after
 * metadata said that the repository holds the blob.
 */
final class SmallBlobCache {
    /** The largest blob kept. */
    static final int MAX_ENTRY = 64 * 1024;

    private final long capacity;
    private long bytes;
    private final LinkedHashMap<Digest, byte[]> entries = new LinkedHashMap<>(64, 0.75f, true);

    SmallBlobCache(long capacity) {
        this.capacity = capacity;
    }

    synchronized byte[] get(Digest digest) {
        return entries.get(digest);
    }

    synchronized void put(Digest digest, byte[] content) {
        if (content.length > MAX_ENTRY || content.length > capacity) {
            return;
        }
        byte[] old = entries.put(digest, content);
        bytes += content.length - (old == null ? 0 : old.length);
        var it = entries.entrySet().iterator();
        while (bytes > capacity && it.hasNext()) {
            Map.Entry<Digest, byte[]> eldest = it.next();
            bytes -= eldest.getValue().length;
            it.remove();
        }
    }

    synchronized void remove(Digest digest) {
        byte[] old = entries.remove(digest);
        if (old != null) {
            bytes -= old.length;
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized int size() {
        return entries.size();
    }
}
