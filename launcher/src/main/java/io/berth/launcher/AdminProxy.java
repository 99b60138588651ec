package io.berth.launcher;

import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Positional;
import io.berth.proto.admin.v1.ListUpstreamsRequest;
import io.berth.proto.admin.v1.ListUpstreamsResponse;
import io.berth.proto.admin.v1.PurgeCacheRequest;
import io.berth.proto.admin.v1.PurgeCacheResponse;
import io.berth.proto.admin.v1.Upstream;
import java.util.ArrayList;
import java.util.List;

/** {@code berth admin proxy upstreams|purge}: the pull-through cache (docs/proxy.md). */
final class AdminProxy {
    private AdminProxy() {}

    static Command command() {
        return AdminCommand.group(
                "proxy",
                "The pull-through cache: its upstreams and their state, and purging cached content.",
                AdminCommand.leaf(
                        "upstreams",
                        "List the upstreams: state, failing since, last failure, requests, failures, "
                                + "cached repositories.",
                        Upstreams::new),
                AdminCommand.leaf(
                                "purge",
                                "Remove a cached tag, or a whole cached repository, and the blob files nothing "
                                        + "else uses; the next pull fetches it again. Local repositories are refused.",
                                Purge::new)
                        .positional(Purge.TARGET));
    }

    static final List<String> HEADERS =
            List.of("NAME", "UPSTREAM", "STATE", "FAILING SINCE", "REQUESTS", "FAILURES", "CACHED", "LAST FAILURE");

    static List<String> row(Upstream u) {
        return List.of(
                u.getName(),
                u.getDescribe(),
                u.getState(),
                u.getFailingSinceEpochMillis() == 0 ? "-" : AdminCommand.time(u.getFailingSinceEpochMillis()),
                Long.toString(u.getRequests()),
                Long.toString(u.getFailures()),
                Long.toString(u.getCachedRepositories()),
                u.getLastFailure().isEmpty() ? "-" : u.getLastFailure());
    }

    static final class Upstreams extends AdminCommand.Leaf {
        Upstreams(Args args) {
            super(args);
        }

        @Override
        int work(AdminCommand.Session s) {
            ListUpstreamsResponse r = s.call().listUpstreams(ListUpstreamsRequest.getDefaultInstance());
            admin.print(r, () -> {
                List<List<String>> rows = new ArrayList<>();
                r.getUpstreamsList().forEach(u -> rows.add(row(u)));
                AdminCommand.table(System.out, HEADERS, rows);
            });
            return 0;
        }
    }

    static final class Purge extends AdminCommand.Leaf {
        static final Positional TARGET =
                Positional.of("REPOSITORY[:TAG]", "A cached repository (hub/library/busybox), or one tag of it.");

        private final String repository;
        private final String tag;

        Purge(Args args) {
            super(args);
            String target = args.value(TARGET);
            int colon = target.lastIndexOf(':');
            boolean tagged = colon > target.lastIndexOf('/');
            repository = tagged ? target.substring(0, colon) : target;
            tag = tagged ? target.substring(colon + 1) : "";
        }

        @Override
        int work(AdminCommand.Session s) {
            PurgeCacheResponse r = s.call()
                    .purgeCache(PurgeCacheRequest.newBuilder()
                            .setRepository(repository)
                            .setTag(tag)
                            .build());
            admin.print(
                    r,
                    () -> System.out.println("purged " + repository + (tag.isEmpty() ? "" : ":" + tag) + ": "
                            + r.getTagsRemoved() + " tags, " + r.getManifestsRemoved() + " manifests; "
                            + r.getBlobsDeleted() + " of " + r.getBlobsUnlinked() + " unlinked blobs deleted ("
                            + AdminCommand.size(r.getBytesFreed()) + ")"));
            return 0;
        }
    }
}
