package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.RepositoryName;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * {@code _catalog} over HTTP for a caller who may pull a few of thousands of repositories, with a
 * small {@code listing.max-catalog-skip}: pages cut short by the scan (even empty ones) carry a Link
 * that continues where the scan stopped, and following the Links lists exactly what the caller may
 * pull, in order, n at a time at most.
 */
class CatalogPagingTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern NEXT = Pattern.compile("<([^>]+)>; rel=\"next\"");

    @TempDir
    Path dir;

    @Test
    void linksContinueWhereTheScanStopped() throws Exception {
        Path users = dir.resolve("htpasswd");
        Files.writeString(
                users, "dave:" + BCrypt.hashpw("pw-of-dave", BCrypt.gensalt(4)).replace("$2a$", "$2y$") + "\n");
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                rules:
                  - repositories: ["team-b/**", "zz/last"]
                    subjects: [dave]
                    actions: [pull]
                """);
        try (TestRegistry r = new TestRegistry(
                dir.resolve("r"),
                Map.of(
                        "auth.type",
                        "htpasswd",
                        "auth.htpasswd.path",
                        users.toString(),
                        "auth.policy",
                        policy.toString(),
                        "listing.max-catalog-skip",
                        "500"))) {
            List<String> expected = new ArrayList<>();
            r.registry.metadata().inTransaction(tx -> {
                for (int i = 0; i < 3000; i++) {
                    tx.repositories().ensure(RepositoryName.of(String.format("team-a/r-%04d", i)));
                }
                for (String name : List.of("aa/first", "team-b/one", "team-b/two/deep", "zz/last")) {
                    tx.repositories().ensure(RepositoryName.of(name));
                }
                return null;
            });
            expected.addAll(List.of("team-b/one", "team-b/two/deep", "zz/last"));
            String dave = TestRegistry.basic("dave", "pw-of-dave");
            List<String> seen = new ArrayList<>();
            String path = "/v2/_catalog?n=2";
            int requests = 0;
            int empty = 0;
            while (path != null) {
                HttpResponse<byte[]> res = r.get(path, "Authorization", dave);
                assertEquals(200, res.statusCode(), new String(res.body()));
                JsonNode names = JSON.readTree(res.body()).get("repositories");
                assertTrue(names.size() <= 2, path + " gave " + names);
                names.forEach(n -> seen.add(n.asText()));
                empty += names.isEmpty() ? 1 : 0;
                path = res.headers()
                        .firstValue("Link")
                        .map(l -> {
                            Matcher m = NEXT.matcher(l);
                            assertTrue(m.matches(), l);
                            return m.group(1);
                        })
                        .orElse(null);
                assertTrue(++requests < 50, "the pages end");
            }
            assertEquals(expected, seen);
            // 3001 names passed over at most 500 a request: a few pages, some of them empty but continued
            assertTrue(requests >= 3001 / 500 && empty > 0, requests + " requests, " + empty + " empty");
        }
    }
}
