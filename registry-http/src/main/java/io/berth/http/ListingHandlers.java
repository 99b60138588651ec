package io.berth.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.metadata.ReferrerRecord;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import io.berth.core.registry.CachedReferrersIndex;
import io.berth.core.registry.CachedTags;
import io.berth.core.registry.Listings;
import io.berth.core.registry.Page;
import io.berth.core.registry.Registry;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code /v2/}, {@code /v2/_catalog}, {@code /v2/<name>/tags/list}, {@code /v2/<name>/referrers/<digest>}. */
final class ListingHandlers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Registry registry;

    ListingHandlers(Registry registry) {
        this.registry = registry;
    }

    static void base(V2Request v2, ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        Responses.send(req, res, "{}".getBytes(StandardCharsets.UTF_8));
    }

    void tags(V2Request v2, ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Integer n = Requests.pageSize(req);
        String last = Requests.query(req, "last").filter(s -> !s.isEmpty()).orElse(null);
        Page page;
        if (registry.proxy().proxied(v2.repository())) {
            CachedTags cached = registry.proxy().tags(Requests.caller(req), v2.repository(), n, last);
            res.header(OciHeaders.BERTH_CACHE, cached.outcome().header());
            page = cached.page();
        } else {
            page = registry.listings().tags(v2.repository(), n, last);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", v2.repository().value());
        body.put("tags", page.entries());
        link(res, "/v2/" + v2.repository() + "/tags/list", n, page);
        json(req, res, "application/json", body);
    }

    void catalog(V2Request v2, ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Integer n = Requests.pageSize(req);
        String last = Requests.query(req, "last").filter(s -> !s.isEmpty()).orElse(null);
        Access access = Access.of(req);
        Page page = registry.listings().catalog(n, last, access == null ? name -> true : access::mayList);
        link(res, "/v2/_catalog", n, page);
        json(req, res, "application/json", Map.of("repositories", page.entries()));
    }

    void referrers(V2Request v2, ServerRequest req, ServerResponse res) throws JsonProcessingException {
        Digest subject = Digest.parse(v2.segment());
        Optional<String> artifactType = Requests.query(req, "artifactType").filter(s -> !s.isEmpty());
        Integer n = Requests.pageSize(req);
        String last = Requests.query(req, "last").filter(s -> !s.isEmpty()).orElse(null);
        if (registry.proxy().proxied(v2.repository())) {
            Optional<CachedReferrersIndex> cached =
                    registry.proxy().referrers(Requests.caller(req), v2.repository(), subject, artifactType);
            if (cached.isPresent()) {
                // the upstream's bytes as they came (one page, no Link): a signature's digest holds
                res.header(OciHeaders.BERTH_CACHE, cached.get().outcome().header());
                if (cached.get().filtered()) {
                    res.header(OciHeaders.OCI_FILTERS_APPLIED, "artifactType");
                }
                res.header(HeaderNames.CONTENT_TYPE, MediaTypes.OCI_INDEX);
                Responses.send(req, res, cached.get().index());
                return;
            }
        }
        Listings.ReferrerPage page =
                registry.listings().referrers(v2.repository(), subject, artifactType.orElse(null), n, last);
        List<Map<String, Object>> manifests = new ArrayList<>();
        for (ReferrerRecord r : page.referrers()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("mediaType", r.mediaType());
            d.put("digest", r.digest().toString());
            d.put("size", r.size());
            if (r.artifactType() != null) {
                d.put("artifactType", r.artifactType());
            }
            if (!r.annotations().isEmpty()) {
                d.put("annotations", r.annotations());
            }
            manifests.add(d);
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        index.put("manifests", manifests);
        artifactType.ifPresent(t -> res.header(OciHeaders.OCI_FILTERS_APPLIED, "artifactType"));
        if (page.more()) {
            String next = "/v2/" + v2.repository() + "/referrers/" + subject + "?n="
                    + (n == null ? page.referrers().size() : n) + "&last=" + page.last()
                    + artifactType
                            .map(t -> "&artifactType=" + URLEncoder.encode(t, StandardCharsets.UTF_8))
                            .orElse("");
            res.header(HeaderNames.LINK, "<" + next + ">; rel=\"next\"");
        }
        json(req, res, MediaTypes.OCI_INDEX, index);
    }

    private static void link(ServerResponse res, String path, Integer n, Page page) {
        if (page.more()) {
            // n as asked; a catalog page cut short by its scan limit may hold fewer entries, even none
            String size = n != null
                    ? "n=" + n + "&"
                    : page.entries().isEmpty() ? "" : "n=" + page.entries().size() + "&";
            String next = path + "?" + size + "last=" + URLEncoder.encode(page.next(), StandardCharsets.UTF_8);
            res.header(HeaderNames.LINK, "<" + next + ">; rel=\"next\"");
        }
    }

    private static void json(ServerRequest req, ServerResponse res, String contentType, Object body)
            throws JsonProcessingException {
        res.header(HeaderNames.CONTENT_TYPE, contentType);
        Responses.send(req, res, JSON.writeValueAsBytes(body));
    }
}
