package io.berth.launcher;

import io.berth.proto.admin.v1.DeleteRepositoryRequest;
import io.berth.proto.admin.v1.GetRepositoryRequest;
import io.berth.proto.admin.v1.ListRepositoriesRequest;
import io.berth.proto.admin.v1.ListRepositoriesResponse;
import io.berth.proto.admin.v1.Repository;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth admin repos list|get|delete}. */
@Command(name = "repos", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        description = "Repositories: list, show one, delete one with everything in it.",
        subcommands = {AdminRepositories.ListRepos.class, AdminRepositories.Get.class, AdminRepositories.Delete.class})
final class AdminRepositories extends AdminCommand.Group {
    static List<String> row(Repository r) {
        return List.of(r.getName(), Long.toString(r.getTagCount()), Long.toString(r.getManifestCount()),
                AdminCommand.size(r.getTotalSize()), AdminCommand.size(r.getUniqueSize()),
                AdminCommand.time(r.getLastPushEpochMillis()), AdminCommand.time(r.getLastPullEpochMillis()));
    }

    static final List<String> HEADERS = List.of("REPOSITORY", "TAGS", "MANIFESTS", "SIZE", "UNIQUE", "LAST PUSH",
            "LAST PULL");

    @Command(name = "list", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "List repositories (all pages), optionally those starting with a prefix.")
    static final class ListRepos extends AdminCommand.Leaf {
        @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "",
                description = "Only names starting with PREFIX.")
        String prefix;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            ListRepositoriesResponse.Builder all = ListRepositoriesResponse.newBuilder();
            String token = "";
            do {
                ListRepositoriesResponse page = s.call().listRepositories(ListRepositoriesRequest.newBuilder()
                        .setPrefix(prefix).setPageSize(1000).setPageToken(token).build());
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

    @Command(name = "get", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Show a repository: tags, manifests, total and unique size, last push and pull.")
    static final class Get extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "REPO")
        String repository;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            Repository r = s.call().getRepository(GetRepositoryRequest.newBuilder().setName(repository).build());
            admin.print(r, () -> AdminCommand.table(System.out, HEADERS, List.of(row(r))));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Delete a repository and everything in it (its tags' history stays; garbage collection "
                    + "reclaims the bytes).")
    static final class Delete extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "REPO")
        String repository;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call().deleteRepository(DeleteRepositoryRequest.newBuilder().setName(repository).build());
            admin.print(r, () -> System.out.println("deleted repository " + repository));
            return 0;
        }
    }
}
