package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.SqliteMetadataStore;
import io.berth.core.model.Digest;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.Tag;
import io.berth.testsupport.Images;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImmutabilityTest {
    static final RepositoryName PROD = RepositoryName.of("team-a/prod/app");
    static final RepositoryName DEV = RepositoryName.of("team-a/dev/app");

    @TempDir
    Path dir;
    Registry registry;
    Images images;

    @BeforeEach
    void open() throws IOException {
        registry = new Registry(new FilesystemBlobStore(dir.resolve("blobs"), false),
                new SqliteMetadataStore(dir.resolve("berth.db")), RegistryOptions.defaults());
        images = new Images(registry);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    static RegistryException refused(Runnable r) {
        RegistryException e = assertThrows(RegistryException.class, r::run);
        assertEquals(ErrorCode.IMMUTABLE, e.code(), e.getMessage());
        return e;
    }

    @Test
    void aProtectedTagIsPushedOnceAndThenNeitherMovedNorDeletedByAnyPath() {
        Immutability.Rule rule = registry.immutability().add("team-a/prod/**", "v[0-9]+\\.[0-9]+\\.[0-9]+");
        Digest one = images.image(PROD, "v1.0.0", "one");
        Digest two = images.image(PROD, null, "two");
        images.image(PROD, "v1.0.0", "one"); // the same manifest again: no change, allowed

        RegistryException e = refused(() -> images.image(PROD, "v1.0.0", "two"));
        assertTrue(e.getMessage().contains(rule.id()) && e.getMessage().contains("cannot be moved"), e.getMessage());
        refused(() -> registry.manifests().delete(PROD, new Tag("v1.0.0")));
        refused(() -> registry.manifests().delete(PROD, one));
        refused(() -> registry.tags().set(Caller.at("admin"), PROD, "v1.0.0", two, Optional.empty()));
        refused(() -> registry.tags().delete(Caller.at("admin"), PROD, "v1.0.0"));
        refused(() -> registry.repositories().delete(Caller.at("admin"), PROD));
        assertEquals(one, registry.metadata().tag(PROD, "v1.0.0").orElseThrow());

        // not protected: another tag, another repository
        images.image(PROD, "latest", "one");
        images.image(PROD, "latest", "two");
        registry.manifests().delete(PROD, new Tag("latest"));
        images.image(DEV, "v1.0.0", "one");
        images.image(DEV, "v1.0.0", "two");
        registry.manifests().delete(DEV, new Tag("v1.0.0"));

        // the rule gone, the tag can move again
        registry.immutability().delete(rule.id());
        images.image(PROD, "v1.0.0", "two");
        assertEquals(two, registry.metadata().tag(PROD, "v1.0.0").orElseThrow());
    }

    @Test
    void rulesAreListedValidatedAndDeletedById() {
        Immutability.Rule a = registry.immutability().add("**", "release-.*");
        Immutability.Rule b = registry.immutability().add("team-b/*", "stable");
        assertEquals(List.of(a, b), registry.immutability().list());
        RegistryException bad = assertThrows(RegistryException.class, () -> registry.immutability().add("**", "v(1"));
        assertEquals(ErrorCode.INVALID_ARGUMENT, bad.code());
        assertTrue(bad.getMessage().contains("'v(1' is not a regular expression"), bad.getMessage());
        assertEquals(ErrorCode.INVALID_ARGUMENT, assertThrows(RegistryException.class,
                () -> registry.immutability().add("Team A", "x")).code());
        assertEquals(ErrorCode.INVALID_ARGUMENT, assertThrows(RegistryException.class,
                () -> registry.immutability().add("**", "")).code());
        registry.immutability().delete(a.id());
        assertEquals(List.of(b), registry.immutability().list());
        assertEquals(ErrorCode.NOT_FOUND, assertThrows(RegistryException.class,
                () -> registry.immutability().delete(a.id())).code());
    }
}
