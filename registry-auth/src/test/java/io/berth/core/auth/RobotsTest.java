package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.RobotRecord;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.Caller;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Robot accounts: what a valid one is, its secret shown once, its grants, and a revocation seen at once. */
class RobotsTest {
    static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dir;

    SqliteMetadataStore metadata;
    Robots robots;

    @BeforeEach
    void open() throws Exception {
        metadata = new SqliteMetadataStore(dir.resolve("berth.db"));
        robots = new Robots(metadata, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @AfterEach
    void close() throws Exception {
        metadata.close();
    }

    static RegistryException refused(Executable e) {
        return assertThrows(RegistryException.class, e);
    }

    @Test
    void aRobotNeedsAValidNameGlobsAndActions() {
        Caller admin = Caller.internal("test");
        RegistryException name = refused(() -> robots.create("CI Bot", List.of("ci/**"), List.of("pull"), "", admin));
        assertEquals(ErrorCode.INVALID_ARGUMENT, name.code());
        assertEquals("CI Bot", name.detail().get("name"));
        assertEquals(
                "x".repeat(80),
                refused(() -> robots.create("x".repeat(200), List.of("ci/**"), List.of("pull"), "", admin))
                        .detail()
                        .get("name"),
                "a long name is cut in the answer");
        assertEquals(
                "a robot needs at least one repository glob",
                refused(() -> robots.create("ci", List.of(), List.of("pull"), "", admin))
                        .getMessage());
        RegistryException glob =
                refused(() -> robots.create("ci", List.of("ci/**", "Bad Glob"), List.of("pull"), "", admin));
        assertEquals(ErrorCode.INVALID_ARGUMENT, glob.code());
        assertTrue(glob.getMessage().startsWith("repositories: "), glob.getMessage());
        assertEquals("Bad Glob", glob.detail().get("repositories"));
        assertEquals(
                ErrorCode.INVALID_ARGUMENT,
                refused(() -> robots.create("ci", List.of("ci/**"), List.of("fly"), "", admin))
                        .code());
        assertEquals(
                "a robot needs at least one action (pull, push, delete, admin)",
                refused(() -> robots.create("ci", List.of("ci/**"), List.of(), "", admin))
                        .getMessage());
        assertEquals(List.of(), robots.list(), "nothing refused was created");
    }

    @Test
    void aRobotIsCreatedOnceWithASecretShownOnlyThen() {
        Caller admin = new Caller("10.0.0.1", "", "", "", "", "root", Caller.ADMIN);
        Robots.Created created =
                robots.create("ci", List.of("ci/**", "tools"), List.of("push", "pull"), "the CI", admin);
        assertTrue(created.secret().matches("berth_[A-Za-z0-9_-]{43}"), created.secret());
        RobotRecord r = created.robot();
        assertEquals(List.of("pull", "push"), r.actions(), "sorted, in the wire's names");
        assertEquals(NOW.toEpochMilli(), r.createdAt());
        assertEquals("root", r.createdBy(), "the admin who created it");
        assertFalse(r.secretHash().contains(created.secret()), "only a hash of the secret is kept");
        assertEquals(List.of(r), robots.list());
        assertEquals(
                "10.0.0.1",
                robots.create("anon", List.of("x"), List.of("pull"), "", Caller.at("10.0.0.1"))
                        .robot()
                        .createdBy(),
                "without an admin name, the address it came from");

        RegistryException twice = refused(() -> robots.create("ci", List.of("ci/**"), List.of("pull"), "", admin));
        assertEquals(ErrorCode.FAILED_PRECONDITION, twice.code());
        assertTrue(robots.authenticate("ci", created.secret()).isPresent(), "the first keeps its secret");
    }

    @Test
    void onlyTheRightSecretAuthenticatesAndARevocationIsSeenAtOnce() {
        Caller admin = Caller.internal("test");
        String secret = robots.create("ci", List.of("ci/**"), List.of("pull", "push"), "", admin)
                .secret();
        String other = robots.create("cd", List.of("cd/**"), List.of("pull"), "", admin)
                .secret();
        assertFalse(robots.authenticatedCached("ci", secret), "not known before it was looked up");
        assertEquals(Optional.empty(), robots.authenticate("ci", other), "another robot's secret");
        assertEquals(Optional.empty(), robots.authenticate("ghost", secret), "no such robot");
        assertEquals("ci", robots.authenticate("ci", secret).orElseThrow().name());
        assertTrue(robots.authenticatedCached("ci", secret), "known without a database read once looked up");
        assertFalse(robots.authenticatedCached("ci", other));
        assertFalse(robots.authenticatedCached("ghost", secret));

        assertEquals(EnumSet.of(Action.PULL, Action.PUSH), robots.granted("ci", "ci/app"));
        assertEquals(Set.of(), robots.granted("ci", "cd/app"), "only on its globs");
        assertEquals(Set.of(), robots.granted("ghost", "ci/app"));

        robots.revoke("ci");
        assertEquals(Optional.empty(), robots.authenticate("ci", secret));
        assertFalse(robots.authenticatedCached("ci", secret));
        assertEquals(Set.of(), robots.granted("ci", "ci/app"));
        RegistryException again = refused(() -> robots.revoke("ci"));
        assertEquals(ErrorCode.NOT_FOUND, again.code());
        assertEquals("ci", again.detail().get("name"));
    }
}
