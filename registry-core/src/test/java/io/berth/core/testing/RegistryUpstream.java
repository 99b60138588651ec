package io.berth.core.testing;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ManifestRecord;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.core.model.Reference;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.CachePolicy;
import io.berth.core.proxy.ProxyRoute;
import io.berth.core.proxy.Upstream;
import io.berth.core.proxy.UpstreamBlob;
import io.berth.core.proxy.UpstreamException;
import io.berth.core.proxy.UpstreamManifest;
import io.berth.core.proxy.UpstreamReferrers;
import io.berth.core.proxy.UpstreamStatus;
import io.berth.core.proxy.UpstreamTagPage;
import io.berth.core.proxy.Upstreams;
import io.berth.core.registry.BlobInfo;
import io.berth.core.registry.Page;
import io.berth.core.registry.Registry;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link Upstream} over a second real {@link Registry} (no HTTP: the engine's cache rules are tested
 * in-JVM; the HTTP upstream is tested against real servers elsewhere). It counts its calls per kind,
 * and can be made to fail in the ways an upstream fails that a test cannot cause in-JVM otherwise:
 * {@link #failWith} (unreachable, throttled, refused…), {@link #corruptBlobs} (bytes that do not match
 * their digest), and {@link #holdUntilReleased} (answers wait, so concurrent requests really overlap).
 */
public final class RegistryUpstream implements Upstream {
    private final String name;
    private final Registry origin;
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private volatile CachePolicy policy = new CachePolicy(Duration.ofMinutes(5), Duration.ofHours(1));
    private volatile UpstreamException.Kind failing;
    private volatile Duration retryAfter;
    private volatile boolean corrupt;
    private volatile long announced = -1;
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile long stallAfter = -1;
    private volatile boolean bodiesFail;
    private volatile CountDownLatch stall = new CountDownLatch(0);

    public RegistryUpstream(String name, Registry origin) {
        this.name = name;
        this.origin = origin;
    }

    /** Upstreams routing {@code <prefix>/<rest>} to {@code <rest>} at {@code upstream}; every other name is local. */
    public static Upstreams prefixed(String prefix, Upstream upstream) {
        return prefixed(Map.of(prefix, upstream));
    }

    /** Upstreams routing {@code <prefix>/<rest>} to {@code <rest>} at the prefix's upstream; every other name is local. */
    public static Upstreams prefixed(Map<String, Upstream> byPrefix) {
        Map<String, Upstream> routes = new TreeMap<>(byPrefix);
        return new Upstreams() {
            @Override
            public Optional<ProxyRoute> route(RepositoryName local) {
                String n = local.value();
                for (Map.Entry<String, Upstream> e : routes.entrySet()) {
                    if (n.startsWith(e.getKey() + "/")) {
                        return Optional.of(new ProxyRoute(
                                e.getValue(),
                                RepositoryName.of(n.substring(e.getKey().length() + 1))));
                    }
                }
                return Optional.empty();
            }

            @Override
            public List<Upstream> all() {
                return List.copyOf(routes.values());
            }
        };
    }

    public RegistryUpstream policy(Duration manifestTtl, Duration staleFor) {
        this.policy = new CachePolicy(manifestTtl, staleFor);
        return this;
    }

    /** Every call throws {@code kind} from now on (null: answers again). */
    public void failWith(UpstreamException.Kind kind, Duration retryAfter) {
        this.failing = kind;
        this.retryAfter = retryAfter;
    }

    /** Blobs come with their last byte changed (same length), as from a broken or hostile upstream. */
    public void corruptBlobs(boolean corrupt) {
        this.corrupt = corrupt;
    }

    /** Blobs are announced with this length whatever their bytes, as by a lying upstream (negative: their own). */
    public void announceBlobLength(long length) {
        this.announced = length;
    }

    /**
     * Blob bodies send their first {@code bytes} bytes, then stall until {@link #resumeBlobs()}, as an
     * upstream does whose link slows down mid-transfer (negative: no stall).
     */
    public void stallBlobsAfter(long bytes) {
        stallAfter = bytes;
        stall = new CountDownLatch(1);
    }

    public void resumeBlobs() {
        stall.countDown();
    }

    /** Blob bodies being read fail from now on (a connection reset mid-body). */
    public void failBlobBodies() {
        bodiesFail = true;
    }

    /** Calls wait until {@link #release()}. */
    public void holdUntilReleased() {
        gate = new CountDownLatch(1);
    }

    public void release() {
        gate.countDown();
    }

    /** Calls made of one kind: manifestDigest, manifest:tag, manifest:digest, blobSize, blob, tags. */
    public int calls(String kind) {
        AtomicInteger n = calls.get(kind);
        return n == null ? 0 : n.get();
    }

    /** Calls of every kind. */
    public int calls() {
        return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private void call(String kind) throws UpstreamException {
        calls.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        try {
            if (!gate.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("held upstream never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        UpstreamException.Kind failure = failing;
        if (failure != null) {
            throw new UpstreamException(
                    failure, "upstream " + name + " fails: " + failure, Optional.ofNullable(retryAfter), null);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "in-JVM registry (test)";
    }

    @Override
    public CachePolicy policy() {
        return policy;
    }

    @Override
    public Optional<Digest> manifestDigest(RepositoryName remote, Tag tag) throws UpstreamException {
        call("manifestDigest");
        return find(remote, tag).map(ManifestRecord::digest);
    }

    @Override
    public Optional<UpstreamManifest> manifest(RepositoryName remote, Reference reference, long maxBytes)
            throws UpstreamException {
        call(reference instanceof Tag ? "manifest:tag" : "manifest:digest");
        return find(remote, reference).map(m -> new UpstreamManifest(m.payload(), m.mediaType(), m.digest()));
    }

    private Optional<ManifestRecord> find(RepositoryName remote, Reference reference) {
        try {
            return Optional.of(origin.manifests().head(remote, reference));
        } catch (RegistryException e) {
            if (e.code() == ErrorCode.MANIFEST_UNKNOWN) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public OptionalLong blobSize(RepositoryName remote, Digest digest) throws UpstreamException {
        call("blobSize");
        return stat(remote, digest).map(b -> OptionalLong.of(b.size())).orElse(OptionalLong.empty());
    }

    private Optional<BlobInfo> stat(RepositoryName remote, Digest digest) {
        try {
            return Optional.of(origin.blobs().stat(remote, digest));
        } catch (RegistryException e) {
            if (e.code() == ErrorCode.BLOB_UNKNOWN) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public Optional<UpstreamBlob> blob(RepositoryName remote, Digest digest) throws UpstreamException {
        call("blob");
        Optional<BlobInfo> blob = stat(remote, digest);
        if (blob.isEmpty()) {
            return Optional.empty();
        }
        InputStream in = origin.blobs().open(remote, blob.get(), 0, blob.get().size());
        if (corrupt) {
            try (InputStream whole = in) {
                byte[] bytes = whole.readAllBytes();
                if (bytes.length > 0) {
                    bytes[bytes.length - 1] ^= 1;
                }
                in = new ByteArrayInputStream(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (stallAfter >= 0) {
            in = new Stalling(in, stallAfter, stall, this);
        }
        long length = announced >= 0 ? announced : blob.get().size();
        return Optional.of(new UpstreamBlob(in, OptionalLong.of(length)));
    }

    @Override
    public Optional<UpstreamReferrers> referrers(RepositoryName remote, Digest subject, Optional<String> artifactType)
            throws UpstreamException {
        call("referrers");
        StringBuilder entries = new StringBuilder();
        for (ReferrerRecord r : origin.listings()
                .referrers(remote, subject, artifactType.orElse(null), null, null)
                .referrers()) {
            entries.append(entries.isEmpty() ? "" : ",")
                    .append("\n  {\"mediaType\": \"")
                    .append(r.mediaType())
                    .append("\", \"digest\": \"")
                    .append(r.digest())
                    .append("\", \"size\": ")
                    .append(r.size())
                    .append(r.artifactType() == null ? "" : ", \"artifactType\": \"" + r.artifactType() + "\"")
                    .append('}');
        }
        // spaced and ordered as Berth would not write it: a cache that re-encodes is caught by its bytes
        String index = "{\"schemaVersion\": 2, \"mediaType\": \"" + MediaTypes.OCI_INDEX + "\",\n \"manifests\": ["
                + entries + "]}\n";
        return Optional.of(new UpstreamReferrers(index.getBytes(StandardCharsets.UTF_8), artifactType.isPresent()));
    }

    @Override
    public Optional<UpstreamTagPage> tags(RepositoryName remote, Optional<String> last, int n)
            throws UpstreamException {
        call("tags");
        if (!origin.metadata().repositories().exists(remote)) {
            return Optional.empty(); // as a registry's 404: the SPI's answer, not the origin's exception
        }
        Page page = origin.listings().tags(remote, n, last.orElse(null));
        return Optional.of(new UpstreamTagPage(
                page.entries().stream().map(Tag::new).toList(),
                page.more() ? Optional.ofNullable(page.next()) : Optional.empty()));
    }

    @Override
    public UpstreamStatus status() {
        return new UpstreamStatus(
                failing == null ? UpstreamStatus.State.UP : UpstreamStatus.State.FAILING,
                Optional.empty(),
                Optional.empty(),
                calls(),
                0);
    }

    /** A body that stops after {@code after} bytes until its latch opens. */
    private static final class Stalling extends FilterInputStream {
        private final CountDownLatch resume;
        private final RegistryUpstream owner;
        private long before;

        Stalling(InputStream in, long after, CountDownLatch resume, RegistryUpstream owner) {
            super(in);
            this.before = after;
            this.resume = resume;
            this.owner = owner;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (before == 0) {
                try {
                    if (!resume.await(60, TimeUnit.SECONDS)) {
                        throw new IOException("stalled upstream never resumed");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                before = -1;
            }
            if (owner.bodiesFail) {
                throw new IOException("connection reset (test)");
            }
            int n = in.read(b, off, before > 0 ? (int) Math.min(len, before) : len);
            if (n > 0 && before > 0) {
                before -= n;
            }
            return n;
        }
    }
}
