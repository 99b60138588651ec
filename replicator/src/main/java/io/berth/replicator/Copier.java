package io.berth.replicator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.manifest.ManifestParser;
import io.berth.core.manifest.ParsedManifest;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.oci.OciClient;
import io.github.resilience4j.ratelimiter.RateLimiter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Makes one target hold what the source holds, state by state: a tag, a manifest (with what it
 * needs), a deletion. Every step asks the source what is true now and copies only what the target
 * lacks — HEAD first, mount when the target holds the blob in another repository, bytes streamed in
 * chunks that resume at the target's offset after a cut. So replaying any event, in any order, is
 * harmless: the target converges on the source.
 */
final class Copier {
    private static final System.Logger LOG = System.getLogger(Copier.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bytes per PATCH by default: a connection reset costs at most this much again. */
    static final long CHUNK = 32L << 20;

    private final OciClient source;
    private final OciClient target;
    private final ReplicationConfig.Target config;
    private final RateLimiter limiter;
    private final long chunk;
    final AtomicLong bytesCopied = new AtomicLong();
    final AtomicLong manifestsCopied = new AtomicLong();
    final AtomicLong blobsMounted = new AtomicLong();
    final AtomicLong deletes = new AtomicLong();
    /** Told of every delete on the target: what, and why. */
    private volatile BiConsumer<String, String> onDelete = (what, why) -> {};
    /** Where the target is known to hold a blob, for cross-repository mounts (bounded, recent first). */
    private final Map<Digest, RepositoryName> located =
            Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Digest, RepositoryName> eldest) {
                    return size() > 100_000;
                }
            });
    /** Blobs being streamed to the target now, completed with where they landed (null: that copy failed). */
    private final ConcurrentHashMap<Digest, CompletableFuture<RepositoryName>> streaming = new ConcurrentHashMap<>();

    Copier(OciClient source, OciClient target, ReplicationConfig.Target config, RateLimiter limiter) {
        this(source, target, config, limiter, CHUNK);
    }

    Copier(OciClient source, OciClient target, ReplicationConfig.Target config, RateLimiter limiter, long chunk) {
        this.source = source;
        this.target = target;
        this.config = config;
        this.limiter = limiter;
        this.chunk = chunk;
    }

    void onDelete(BiConsumer<String, String> listener) {
        this.onDelete = listener;
    }

    ReplicationConfig.Target config() {
        return config;
    }

    OciClient target() {
        return target;
    }

    OciClient source() {
        return source;
    }

    /**
     * Makes the target's tag what the source's is: copied (and moved) when the source has it, deleted
     * when deletes are on and the source positively lacks it (see {@link #sourceLacksTag}). Returns
     * whether the target changed.
     */
    boolean syncTag(RepositoryName repository, Tag tag) throws IOException {
        RepositoryName dst = config.destination(repository);
        return syncTag(repository, tag, source.manifestDigest(repository, tag), target.manifestDigest(dst, tag));
    }

    /**
     * {@link #syncTag(RepositoryName, Tag)} with the digests of the tag on the source ({@code want}) and
     * on the target ({@code have}) just asked by the caller (a reconciliation, in the repository's queue):
     * not asked again.
     */
    boolean syncTag(RepositoryName repository, Tag tag, Optional<Digest> want, Optional<Digest> have)
            throws IOException {
        RepositoryName dst = config.destination(repository);
        if (want.isEmpty()) {
            if (config.deletes() && have.isPresent() && sourceLacksTag(repository, tag)) {
                return deleteTag(dst, tag, "the source's tag list of " + repository + " lacks it");
            }
            return false;
        }
        Digest digest = want.get();
        boolean moves = !have.equals(want);
        if (!moves || target.manifestDigest(dst, digest).isPresent()) {
            copyReferrers(repository, digest, 0);
            if (moves) {
                putTag(repository, dst, tag, sourceManifest(repository, digest));
            }
            return moves;
        }
        // by digest: the bytes are checked against the digest the source advertised for the tag
        OciClient.Manifest m = sourceManifest(repository, digest);
        copyContent(repository, dst, m, 0);
        List<Digest> referrers = referrers(repository, digest);
        if (referrers.isEmpty()) {
            // nothing refers to it: the tag's PUT brings the manifest, one request instead of two
            putTag(repository, dst, tag, m);
            manifestsCopied.incrementAndGet();
            return true;
        }
        // its signatures and attestations are on the target before the tag that names it
        target.putManifest(dst, digest, m.mediaType(), m.bytes());
        manifestsCopied.incrementAndGet();
        copyReferrers(repository, referrers, 0);
        putTag(repository, dst, tag, m);
        return true;
    }

    private OciClient.Manifest sourceManifest(RepositoryName repository, Digest digest) throws IOException {
        return source.manifest(repository, digest)
                .orElseThrow(() ->
                        new IOException("manifest " + digest + " of " + repository + " vanished from the source"));
    }

    private void putTag(RepositoryName repository, RepositoryName dst, Tag tag, OciClient.Manifest m)
            throws IOException {
        target.putManifest(dst, tag, m.mediaType(), m.bytes());
    }

    /**
     * Positive evidence that the source no longer has a tag whose HEAD just answered 404: the source
     * answers the repository's tag list, and the list lacks the tag. A source that does not know the
     * repository at all (404: an empty registry, a proxy's default backend) is no evidence — the
     * repository's own delete says so, or reconciliation does; a list that still names the tag
     * contradicts the HEAD and is an error, not a delete.
     */
    private boolean sourceLacksTag(RepositoryName repository, Tag tag) throws IOException {
        Optional<OciClient.Listing<Tag>> listed = source.tags(repository);
        if (listed.isEmpty()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "target " + config.name() + ": " + repository + ":" + tag + " not deleted: "
                            + "the source does not know " + repository
                            + " (HTTP 404), which is no evidence of a delete");
            return false;
        }
        if (listed.get().values().contains(tag)) {
            throw new IOException("the source is inconsistent: its tag list of " + repository + " names " + tag
                    + " while HEAD of it answers 404; not deleted");
        }
        return true;
    }

    private boolean deleteTag(RepositoryName dst, Tag tag, String why) throws IOException {
        try {
            boolean gone = target.deleteManifest(dst, tag);
            if (gone) {
                deleted(dst + ":" + tag, why);
            }
            return gone;
        } catch (OciClient.OciException e) {
            if (e.status() == 405 || e.code().equals("UNSUPPORTED")) {
                // registries that cannot delete a tag alone (Distribution) keep it: reported, not retried
                LOG.log(
                        System.Logger.Level.WARNING,
                        "target " + config.name() + " cannot delete tag " + dst + ":" + tag + " (" + e.getMessage()
                                + ")");
                return false;
            }
            throw e;
        }
    }

    /** Every delete on a target is one line and one count, with why it was done. */
    private void deleted(String what, String why) {
        deletes.incrementAndGet();
        LOG.log(System.Logger.Level.INFO, "target " + config.name() + ": deleted " + what + " (" + why + ")");
        onDelete.accept(what, why);
    }

    /**
     * Makes the target hold the manifest {@code digest} when the source does (deleted from the target
     * when deletes are on and the source positively lacks it: it answers for the repository, by its tag
     * list, and 404 for the manifest). A manifest pushed only by digest is copied when it is a referrer
     * of a manifest the target holds, or when the target filters neither tags nor platforms (else it
     * comes with the tag that names it).
     */
    boolean syncDigest(RepositoryName repository, Digest digest) throws IOException {
        RepositoryName dst = config.destination(repository);
        Optional<OciClient.Manifest> m = source.manifest(repository, digest);
        if (m.isEmpty()) {
            if (config.deletes() && source.tags(repository).isPresent()) {
                try {
                    boolean gone = target.deleteManifest(dst, digest);
                    if (gone) {
                        deleted(
                                dst + "@" + digest,
                                "the source answers for " + repository + " and not for the manifest");
                    }
                    return gone;
                } catch (OciClient.OciException e) {
                    if (e.status() == 409 || e.code().equals("DENIED")) {
                        return false; // still listed by an index there: goes with it
                    }
                    throw e;
                }
            }
            return false;
        }
        ParsedManifest parsed =
                ManifestParser.parse(m.get().mediaType(), m.get().bytes());
        if (parsed.subject().isPresent()) {
            if (target.manifestDigest(dst, parsed.subject().get()).isEmpty()) {
                return false; // its subject is not replicated (yet): it follows the subject
            }
        } else if (config.tags().isPresent() || !config.platforms().isEmpty()) {
            return false; // filtered targets take what a wanted tag names (an index's platforms decided there)
        }
        return copyManifest(repository, digest, 0);
    }

    /**
     * Deletes what the target holds of a repository the source no longer has — only on positive
     * evidence: the source's catalog answers, lists at least one repository (an empty source is a
     * reason to stop, never to delete), and lacks this one, and its tag list of it answers 404.
     * {@code catalog} is the source's catalog when the caller has just read it, else null.
     */
    int deleteRepository(RepositoryName repository, OciClient.Listing<RepositoryName> catalog) throws IOException {
        if (!config.deletes()) {
            return 0;
        }
        OciClient.Listing<RepositoryName> listed = catalog != null ? catalog : source.catalog();
        if (listed.values().isEmpty()) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "target " + config.name() + ": " + repository + " not deleted: the "
                            + "source lists no repositories at all, which is no evidence of a delete");
            return 0;
        }
        if (listed.values().contains(repository) || source.tags(repository).isPresent()) {
            return 0;
        }
        RepositoryName dst = config.destination(repository);
        // only the tags this target replicates (its tags: filter), and never a manifest another tag of the
        // target still names: deleting by digest takes every tag of that digest with it
        Set<Digest> wanted = new LinkedHashSet<>();
        Set<Digest> keptByOthers = new HashSet<>();
        for (Tag tag : target.tags(dst).map(OciClient.Listing::values).orElse(List.of())) {
            Optional<Digest> d = target.manifestDigest(dst, tag);
            if (d.isPresent()) {
                (config.wantsTag(tag) ? wanted : keptByOthers).add(d.get());
            }
        }
        int deleted = 0;
        for (Digest d : wanted) {
            if (!keptByOthers.contains(d)
                    && deleteQuietly(
                            dst, d, "the source's catalog lacks " + repository + " and it answers 404 for its tags")) {
                deleted++;
            }
        }
        return deleted;
    }

    private boolean deleteQuietly(RepositoryName dst, Digest digest, String why) throws IOException {
        try {
            boolean gone = target.deleteManifest(dst, digest);
            if (gone) {
                deleted(dst + "@" + digest, why);
            }
            return gone;
        } catch (OciClient.OciException e) {
            if (e.status() == 409) {
                return false;
            }
            throw e;
        }
    }

    /** Copies a manifest and everything it needs, children and blobs first; false when the target had it. */
    boolean copyManifest(RepositoryName repository, Digest digest, int depth) throws IOException {
        RepositoryName dst = config.destination(repository);
        if (target.manifestDigest(dst, digest).isPresent()) {
            return false;
        }
        OciClient.Manifest m = source.manifest(repository, digest)
                .orElseThrow(() -> new IOException(
                        "manifest " + digest + " of " + repository + " is not on the source (any more)"));
        copyContent(repository, dst, m, depth);
        target.putManifest(dst, digest, m.mediaType(), m.bytes());
        manifestsCopied.incrementAndGet();
        return true;
    }

    /** What a manifest needs on the target before it can be put there: its children (an index's), its blobs. */
    private void copyContent(RepositoryName repository, RepositoryName dst, OciClient.Manifest m, int depth)
            throws IOException {
        ParsedManifest parsed = ManifestParser.parse(m.mediaType(), m.bytes());
        if (!parsed.children().isEmpty()) {
            for (Digest child : children(m.bytes())) {
                if (depth < 8) {
                    copyManifest(repository, child, depth + 1);
                }
            }
        }
        for (Descriptor blob : parsed.blobs()) {
            if (!blob.isExternal()) {
                copyBlob(repository, dst, blob.digest(), blob.size());
            }
        }
    }

    /** The children of an index the target wants: all, or those of the configured platforms. */
    List<Digest> children(byte[] index) throws IOException {
        List<Digest> out = new ArrayList<>();
        for (JsonNode c : JSON.readTree(index).path("manifests")) {
            JsonNode p = c.path("platform");
            if (config.platforms().isEmpty() || !p.isObject() || platformWanted(p)) {
                out.add(Digest.parse(c.path("digest").asText())); // the parser has checked it already
            }
        }
        return out;
    }

    private boolean platformWanted(JsonNode p) {
        String os = p.path("os").asText();
        String arch = p.path("architecture").asText();
        String variant = p.path("variant").asText("");
        for (String wanted : config.platforms()) {
            String[] w = wanted.split("/");
            if (w[0].equals(os) && w[1].equals(arch) && (w.length < 3 || w[2].equals(variant))) {
                return true;
            }
        }
        return false;
    }

    /** Signatures, SBOMs, attestations of a manifest follow it (and theirs follow them). */
    void copyReferrers(RepositoryName repository, Digest digest, int depth) throws IOException {
        if (depth > 2) {
            return;
        }
        copyReferrers(repository, referrers(repository, digest), depth);
    }

    private void copyReferrers(RepositoryName repository, List<Digest> referrers, int depth) throws IOException {
        for (Digest referrer : referrers) {
            copyManifest(repository, referrer, 0);
            copyReferrers(repository, referrer, depth + 1);
        }
    }

    private List<Digest> referrers(RepositoryName repository, Digest digest) throws IOException {
        return source.referrers(
                repository,
                digest,
                why -> LOG.log(System.Logger.Level.WARNING, "target " + config.name() + ": " + why + "; skipped"));
    }

    /**
     * Copies a blob the target lacks: mounted when it is known elsewhere there (no {@code HEAD} first: a
     * mount of a blob the repository holds already answers 201 as well), else streamed — once: a blob
     * another repository's copy is streaming right now is waited for and then mounted from there.
     */
    void copyBlob(RepositoryName repository, RepositoryName dst, Digest digest, long size) throws IOException {
        RepositoryName from = located.get(digest);
        if (from == null || from.equals(dst)) {
            if (target.blobExists(dst, digest)) {
                located.put(digest, dst);
                return;
            }
            from = null;
            CompletableFuture<RepositoryName> mine = new CompletableFuture<>();
            CompletableFuture<RepositoryName> other = streaming.putIfAbsent(digest, mine);
            if (other == null) {
                boolean landed = false;
                try {
                    stream(repository, dst, digest, size, target.mountOrStart(dst, digest, null));
                    located.put(digest, dst);
                    landed = true;
                    return;
                } finally {
                    // out of the map before anyone wakes: a waiter told that this copy failed (null)
                    // and asking again must not find it still there, and wait on it again
                    streaming.remove(digest, mine);
                    mine.complete(landed ? dst : null);
                }
            }
            from = awaitStream(other);
            if (from == null || from.equals(dst)) {
                copyBlob(repository, dst, digest, size); // that copy failed, or was to here: ask again
                return;
            }
        }
        OciClient.Upload upload;
        try {
            upload = target.mountOrStart(dst, digest, from);
        } catch (OciClient.OciException e) {
            if (e.status() < 400 || e.status() >= 500 || e.status() == 429) {
                throw e; // the target is in trouble, or asks to slow down: the copy is tried again later
            }
            // refused outright instead of the 202 the spec asks for (no pull on the other repository,
            // no mounts at all): forgotten as a place to mount from, and uploaded
            LOG.log(
                    System.Logger.Level.INFO,
                    "target " + config.name() + " refused to mount " + digest + " from " + from + " (" + e.getMessage()
                            + "); uploading it");
            located.remove(digest, from);
            upload = target.mountOrStart(dst, digest, null);
        }
        if (upload.mounted()) {
            blobsMounted.incrementAndGet();
            located.put(digest, dst);
            return;
        }
        stream(repository, dst, digest, size, upload); // not mountable from there (any more)
        located.put(digest, dst);
    }

    private static RepositoryName awaitStream(CompletableFuture<RepositoryName> other) throws IOException {
        try {
            return other.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            return null;
        }
    }

    /**
     * Streams a blob's bytes into an upload: one {@code PUT} with the body when it fits in a chunk (a
     * cut one starts over: at most a chunk again), else {@code PATCH}es of a chunk each that resume at
     * the target's offset after a cut, then the {@code PUT}.
     */
    private void stream(
            RepositoryName repository, RepositoryName dst, Digest digest, long size, OciClient.Upload upload)
            throws IOException {
        URI location = upload.location();
        int failures = 0;
        if (size <= chunk) {
            while (true) {
                try (InputStream in =
                        size == 0 ? InputStream.nullInputStream() : source.openBlob(repository, digest, 0, size)) {
                    target.completeUpload(
                            dst, location, digest, size, Streams.chunk(in, size, limiter, bytesCopied::addAndGet));
                    return;
                } catch (IOException e) {
                    if (++failures > 5) {
                        throw e;
                    }
                    LOG.log(
                            System.Logger.Level.INFO,
                            "copying " + digest + " to " + config.name() + " failed (" + e.getMessage()
                                    + "); starting again");
                    sleep(250L << failures);
                    location = target.mountOrStart(dst, digest, null).location();
                }
            }
        }
        long offset = 0;
        while (offset < size) {
            try (InputStream in = source.openBlob(repository, digest, offset, size - offset)) {
                while (offset < size) {
                    long length = Math.min(chunk, size - offset);
                    location = target.patch(
                            dst, location, offset, length, Streams.chunk(in, length, limiter, bytesCopied::addAndGet));
                    offset += length;
                }
            } catch (IOException e) {
                if (++failures > 5) {
                    throw e;
                }
                LOG.log(
                        System.Logger.Level.INFO,
                        "copying " + digest + " to " + config.name() + " was cut at " + offset + " bytes ("
                                + e.getMessage() + "); resuming");
                sleep(250L << failures);
                try {
                    offset = target.uploadOffset(dst, location);
                } catch (IOException statusFailed) {
                    location = target.mountOrStart(dst, digest, null).location();
                    offset = 0;
                }
            }
        }
        target.completeUpload(dst, location, digest);
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
