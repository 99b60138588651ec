package io.berth.launcher;

import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.Positional;
import io.berth.proto.admin.v1.DeleteRepositoryRequest;
import io.berth.proto.admin.v1.GetRepositoryRequest;
import io.berth.proto.admin.v1.ListRepositoriesRequest;
import io.berth.proto.admin.v1.ListRepositoriesResponse;
import io.berth.proto.admin.v1.Repository;
import java.util.ArrayList;
import java.util.List;

/** {@code berth admin repos list|get|delete}. */
final class AdminRepositories {
    static final Positional REPO = Positional.of("REPO");

    private AdminRepositories() {}

    static Command command() {
        return AdminCommand.group(
                "repos",
                "Repositories: list, show one, delete one with everything in it.",
                AdminCommand.leaf(
                                "list",
                                "List repositories (all pages), optionally those starting with a prefix.",
                                ListRepos::new)
                        .option(ListRepos.PREFIX),
                AdminCommand.leaf(
                                "get",
                                "Show a repository: tags, manifests, total and unique size, last push and " + "pull.",
                                Get::new)
                        .positional(REPO),
                AdminCommand.leaf(
                                "delete",
                                "Delete a repository and everything in it (its tags' history stays; garbage "
                                        + "collection reclaims the bytes).",
                                Delete::new)
                        .positional(REPO));
    }

    static List<String> row(Repository r) {
        return List.of(
                r.getName(),
                Long.toString(r.getTagCount()),
                Long.toString(r.getManifestCount()),
                AdminCommand.size(r.getTotalSize()),
                AdminCommand.size(r.getUniqueSize()),
                AdminCommand.time(r.getLastPushEpochMillis()),
                AdminCommand.time(r.getLastPullEpochMillis()));
    }

    static final List<String> HEADERS =
            List.of("REPOSITORY", "TAGS", "MANIFESTS", "SIZE", "UNIQUE", "LAST PUSH", "LAST PULL");

    static final class ListRepos extends AdminCommand.Leaf {
        static final Option PREFIX = Option.value("PREFIX", "Only names starting with PREFIX.", "--prefix")
                .defaultValue("");

        private final String prefix;

        ListRepos(Args args) {
            super(args);
            prefix = args.value(PREFIX);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            ListRepositoriesResponse.Builder all = ListRepositoriesResponse.newBuilder();
            String token = "";
            do {
                ListRepositoriesResponse page = s.call()
                        .listRepositories(ListRepositoriesRequest.newBuilder()
                                .setPrefix(prefix)
                                .setPageSize(1000)
                                .setPageToken(token)
                                .build());
                all.addAllRepositories(page.getRepositoriesList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            admin.print(all, () -> {
                List<List<String>> rows = new ArrayList<>();
                all.getRepositoriesList().forEach(r -> rows.add(row(r)));
                AdminCommand.table(System.out, HEADERS, rows);
            });
            return 0;
        }
    }

    static final class Get extends AdminCommand.Leaf {
        private final String repository;

        Get(Args args) {
            super(args);
            repository = args.value(REPO);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            Repository r = s.call()
                    .getRepository(GetRepositoryRequest.newBuilder()
                            .setName(repository)
                            .build());
            admin.print(r, () -> AdminCommand.table(System.out, HEADERS, List.of(row(r))));
            return 0;
        }
    }

    static final class Delete extends AdminCommand.Leaf {
        private final String repository;

        Delete(Args args) {
            super(args);
            repository = args.value(REPO);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call()
                    .deleteRepository(DeleteRepositoryRequest.newBuilder()
                            .setName(repository)
                            .build());
            admin.print(r, () -> System.out.println("deleted repository " + repository));
            return 0;
        }
    }
}
