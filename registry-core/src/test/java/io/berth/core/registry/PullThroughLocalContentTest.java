package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.core.proxy.Upstreams;
import io.berth.core.testing.Images;
import io.berth.core.testing.RegistryUpstream;
import io.berth.testsupport.MutableClock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository is proxied or local, never both: content pushed before an upstream's route came to cover
 * its name is never touched by the cache (revalidation would move or delete its tags, eviction and purge
 * its images), and start-up names such repositories.
 */
class PullThroughLocalContentTest {
    @TempDir
    Path dir;

    private Registry local(String name) throws IOException {
        return new Registry(
                new FilesystemBlobStore(dir.resolve(name), false),
                new SqliteMetadataStore(dir.resolve(name + ".db")),
                RegistryOptions.defaults());
    }

    /** A registry on {@code name}'s stores (shared with any other opened on the same name) with routes. */
    private Registry routed(String name, Clock clock, Upstreams upstreams) throws IOException {
        return new Registry(
                new FilesystemBlobStore(dir.resolve(name), false),
                new SqliteMetadataStore(dir.resolve(name + ".db"), clock),
                RegistryOptions.defaults(),
                clock,
                upstreams);
    }

    @Test
    void aLocalTagIsNotDeletedWhenAMirrorLaterCoversItsName() throws IOException {
        RepositoryName name = RepositoryName.of("hub/library/app");
        Registry before = local("cache");
        Digest mine = new Images(before).image(name, "v1", "pushed here, not upstream");
        before.close();

        Registry origin = local("origin");
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        // the operator adds an upstream whose routes cover the name (a mirror's default repositories is **)
        Registry after = routed("cache", Clock.systemUTC(), RegistryUpstream.prefixed("hub", upstream));
        try {
            RegistryException e = assertThrows(
                    RegistryException.class,
                    () -> after.proxy().manifest(Caller.at("10.0.0.9"), name, new Tag("v1"), true));
            assertEquals(ErrorCode.DENIED, e.code());
            assertTrue(e.getMessage().contains("never both"), e.getMessage());
            assertEquals(List.of(name), after.proxy().localContentUnderRoutes(10));
            assertEquals(List.of(), origin.proxy().localContentUnderRoutes(10), "no routes, no conflicts");
            assertEquals(
                    Optional.of(mine),
                    after.metadata().tags().target(name, "v1"),
                    "a pull deleted a tag the cache never wrote");
        } finally {
            upstream.release();
            after.close();
            origin.close();
        }
    }

    @Test
    void aBlobPullOrAPurgeNeverTakesOverALocalRepositoryUnderARoute() throws IOException {
        RepositoryName name = RepositoryName.of("hub/library/app");
        Registry before = local("cache");
        Digest mine = new Images(before).image(name, "v1", "pushed here, not upstream");
        before.close();

        Registry origin = local("origin");
        Digest upstreamOnly = new Images(origin)
                .blob(RepositoryName.of("library/app"), Images.bytes("only upstream"))
                .digest();
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        Registry after = routed("cache", Clock.systemUTC(), RegistryUpstream.prefixed("hub", upstream));
        Caller client = Caller.at("10.0.0.9");
        try {
            RegistryException blob =
                    assertThrows(RegistryException.class, () -> after.proxy().pull(client, name, upstreamOnly));
            assertEquals(ErrorCode.DENIED, blob.code(), "a blob fill would record the repository as a cache");
            assertEquals(
                    ErrorCode.DENIED,
                    assertThrows(RegistryException.class, () -> after.proxy().blobHead(client, name, upstreamOnly))
                            .code());
            assertEquals(0, upstream.calls(), "no upstream request for a local repository");
            assertTrue(after.metadata().proxy().repository(name).isEmpty(), "not recorded as a cache");
            RegistryException pull = assertThrows(
                    RegistryException.class, () -> after.proxy().manifest(client, name, new Tag("v1"), true));
            assertEquals(ErrorCode.DENIED, pull.code(), "still local after a blob request");
            RegistryException purge = assertThrows(
                    RegistryException.class,
                    () -> after.proxy().purge(Caller.job("admin", "test"), name, Optional.empty()));
            assertEquals(ErrorCode.FAILED_PRECONDITION, purge.code(), "purge removes cached content only");
            assertEquals(Optional.of(mine), after.metadata().tags().target(name, "v1"));
            assertTrue(after.metadata().manifests().exists(name, mine));
        } finally {
            upstream.release();
            after.close();
            origin.close();
        }
    }

    @Test
    void aRepositoryAnotherInstanceCachedIsNotTakenForLocalContent() throws IOException {
        Registry origin = local("origin");
        Digest d = new Images(origin).image(RepositoryName.of("library/app"), "v1", "upstream");
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        Registry cache = routed("cache", Clock.systemUTC(), RegistryUpstream.prefixed("hub", upstream));
        RepositoryName name = RepositoryName.of("hub/library/app");
        try {
            // this instance's first request is for a local repository: no cache rows exist anywhere yet
            assertTrue(!cache.proxy().proxied(RepositoryName.of("team/app")));
            // another instance on the same database caches the repository (its rows, not this process's)
            cache.metadata().inTransaction(tx -> {
                tx.repositories().ensure(name);
                tx.proxy().ensureRepository(name, "hub", RepositoryName.of("library/app"));
                return null;
            });
            CachedManifest m = cache.proxy().manifest(Caller.at("10.0.0.9"), name, new Tag("v1"), true);
            assertEquals(d, m.record().digest(), "a cache row written elsewhere is still a cache row");
        } finally {
            upstream.release();
            cache.close();
            origin.close();
        }
    }

    @Test
    void aRepositoryAnotherInstanceCachedFromAnUpstreamNotConfiguredHereIsReadOnlyHere() throws IOException {
        Registry origin = local("origin");
        new Images(origin).image(RepositoryName.of("library/app"), "v1", "upstream");
        RegistryUpstream upstream = new RegistryUpstream("hub", origin);
        // two instances on one database: this one no longer has the upstream "hub", the other still does
        MutableClock clock = new MutableClock();
        Registry here = routed("cache", clock, Upstreams.none());
        Registry other = routed("cache", Clock.systemUTC(), RegistryUpstream.prefixed("hub", upstream));
        RepositoryName name = RepositoryName.of("hub/library/app");
        try {
            // this instance's first request is for a local repository: no cache rows exist anywhere yet
            assertFalse(here.proxy().proxied(RepositoryName.of("team/app")));
            assertFalse(here.proxy().proxied(name));
            other.proxy().manifest(Caller.at("10.0.0.9"), name, new Tag("v1"), true);

            RegistryException e =
                    assertThrows(RegistryException.class, () -> here.uploads().start(name));
            assertEquals(ErrorCode.DENIED, e.code(), "the other instance's cache is read-only here too");
            assertTrue(e.getMessage().contains("no longer configured"), e.getMessage());
            assertEquals(
                    ErrorCode.DENIED,
                    assertThrows(RegistryException.class, () -> new Images(here).image(name, "v2", "pushed"))
                            .code());
            assertFalse(here.metadata().tags().target(name, "v2").isPresent());

            clock.advance(Duration.ofSeconds(2));
            assertTrue(here.proxy().proxied(name), "reads find the cache row within a second");
            assertFalse(here.proxy().proxied(RepositoryName.of("team/app")));
        } finally {
            upstream.release();
            other.close();
            here.close();
            origin.close();
        }
    }
}
