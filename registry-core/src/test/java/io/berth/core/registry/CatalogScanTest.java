package io.berth.core.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.core.blob.FilesystemBlobStore;
import io.berth.core.metadata.CountingMetadataStore;
import io.berth.core.metadata.sqlite.SqliteMetadataStore;
import io.berth.core.model.RepositoryName;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog of a caller who may pull few of many repositories: each request reads the metadata
 * in large batches and examines at most {@code listing.max-catalog-skip} names, and following the
 * pages still lists exactly what the caller sees, in order.
 */
class CatalogScanTest {
    static final int REPOSITORIES = 5000;

    @TempDir
    Path dir;

    Registry registry;
    final AtomicInteger queries = new AtomicInteger();

    Registry open(String maxSkip) throws IOException {
        SqliteMetadataStore sqlite = new SqliteMetadataStore(dir.resolve("berth.db"));
        sqlite.inTransaction(tx -> {
            for (int i = 0; i < REPOSITORIES; i++) {
                tx.repositories().ensure(RepositoryName.of(name(i)));
            }
            return null;
        });
        return registry = new Registry(
                new FilesystemBlobStore(dir.resolve("blobs"), false),
                new CountingMetadataStore(sqlite, queries),
                RegistryOptions.of(Map.of("listing.max-catalog-skip", maxSkip)));
    }

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
    }

    static String name(int i) {
        return String.format("team-%d/app-%05d", i % 10, i);
    }

    /** Follows the pages as a client follows Link headers; checks each request's cost. */
    List<String> everyPage(Integer n, Predicate<String> visible, int maxSkip, List<Integer> entriesPerPage) {
        List<String> seen = new ArrayList<>();
        String last = null;
        int limit = n == null ? RegistryOptions.defaults().maxPageSize() : n;
        int maxQueries = (limit + 1 + maxSkip + Listings.CATALOG_BATCH - 1) / Listings.CATALOG_BATCH + 1;
        for (int request = 0; request < 1000; request++) {
            AtomicInteger examined = new AtomicInteger();
            AtomicInteger skipped = new AtomicInteger();
            queries.set(0);
            Page page = registry.listings().catalog(n, last, name -> {
                examined.incrementAndGet();
                boolean shown = visible.test(name);
                skipped.addAndGet(shown ? 0 : 1);
                return shown;
            });
            assertTrue(skipped.get() <= maxSkip, "request " + request + " passed over " + skipped + " names");
            assertTrue(examined.get() <= limit + 1 + maxSkip, "request " + request + " examined " + examined);
            assertTrue(queries.get() <= maxQueries, "request " + request + " made " + queries + " queries");
            seen.addAll(page.entries());
            entriesPerPage.add(page.entries().size());
            if (!page.more()) {
                return seen;
            }
            last = page.next();
        }
        throw new AssertionError("the pages never ended");
    }

    @Test
    void aCallerWhoSeesLittleCostsBoundedWorkPerRequestAndStillGetsEverything() throws IOException {
        open("1000");
        Predicate<String> visible = name -> Integer.parseInt(name.substring(name.length() - 5)) % 700 == 3;
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < REPOSITORIES; i++) {
            if (visible.test(name(i))) {
                expected.add(name(i));
            }
        }
        expected.sort(null);
        List<Integer> sizes = new ArrayList<>();
        assertEquals(expected, everyPage(1, visible, 1000, sizes));
        assertTrue(sizes.size() <= expected.size() + REPOSITORIES / 1000 + 1, "pages: " + sizes);
        assertTrue(sizes.stream().allMatch(s -> s <= 1), "n=1 is honoured: " + sizes);
        // without n: pages as large as the page limit, each request still bounded
        sizes.clear();
        assertEquals(expected, everyPage(null, visible, 1000, sizes));
    }

    @Test
    void aCallerWhoSeesEverythingGetsFullPages() throws IOException {
        open("10");
        List<Integer> sizes = new ArrayList<>();
        List<String> all = everyPage(700, name -> true, 10, sizes);
        assertEquals(REPOSITORIES, all.size());
        assertEquals(all.stream().sorted().toList(), all);
        assertTrue(sizes.subList(0, sizes.size() - 1).stream().allMatch(s -> s == 700), "full pages: " + sizes);
        // a few visible among many: a page fills once enough were found within the budget
        sizes.clear();
        List<String> some = everyPage(null, name -> name.startsWith("team-3/"), 10, sizes);
        assertEquals(REPOSITORIES / 10, some.size());
    }

    @Test
    void nobodyVisibleEndsAfterABoundedNumberOfEmptyPages() throws IOException {
        open("1000");
        List<Integer> sizes = new ArrayList<>();
        assertEquals(List.of(), everyPage(5, name -> false, 1000, sizes));
        assertEquals(REPOSITORIES / 1000 + 1, sizes.size(), "pages: " + sizes);
    }
}
