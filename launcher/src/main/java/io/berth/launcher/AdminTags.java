package io.berth.launcher;

import io.berth.proto.admin.v1.DeleteTagRequest;
import io.berth.proto.admin.v1.GetTagHistoryRequest;
import io.berth.proto.admin.v1.GetTagRequest;
import io.berth.proto.admin.v1.ListManifestsRequest;
import io.berth.proto.admin.v1.ListManifestsResponse;
import io.berth.proto.admin.v1.ListTagsRequest;
import io.berth.proto.admin.v1.ListTagsResponse;
import io.berth.proto.admin.v1.RestoreTagRequest;
import io.berth.proto.admin.v1.SetTagRequest;
import io.berth.proto.admin.v1.Tag;
import io.berth.proto.admin.v1.TagHistory;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth admin tags …} and {@code berth admin manifests list}. */
@Command(name = "tags", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        description = "Tags: list, show, set (retag, promote from another repository), delete, history, restore.",
        subcommands = {AdminTags.ListTags.class, AdminTags.Get.class, AdminTags.Set.class, AdminTags.Delete.class,
                AdminTags.History.class, AdminTags.Restore.class})
final class AdminTags extends AdminCommand.Group {
    static final List<String> HEADERS = List.of("TAG", "DIGEST", "MEDIA TYPE", "SIZE", "PUSHED", "LAST PULL");

    static List<String> row(Tag t) {
        return List.of(t.getName(), AdminCommand.shortDigest(t.getDigest()), t.getMediaType(),
                AdminCommand.size(t.getSize()), AdminCommand.time(t.getPushedEpochMillis()),
                AdminCommand.time(t.getLastPulledEpochMillis()));
    }

    /** Common to commands on one tag. */
    abstract static class OnTag extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "REPO")
        String repository;

        @Parameters(index = "1", paramLabel = "TAG")
        String tag;

        void printTag(AdminCommand admin, Tag t) {
            admin.print(t, () -> {
                AdminCommand.table(System.out, HEADERS, List.of(row(t)));
                if (t.getPlatformsCount() > 0) {
                    System.out.println("platforms: " + String.join(", ", t.getPlatformsList()));
                }
                System.out.println("digest: " + t.getDigest());
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "List a repository's tags (all pages).")
    static final class ListTags extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "REPO")
        String repository;

        @Option(names = "--filter", paramLabel = "PATTERN", defaultValue = "",
                description = "Only tags matching PATTERN: a glob (* and ?), or with --regex a regular expression.")
        String filter;

        @Option(names = "--regex", description = "PATTERN is a regular expression (RE2 syntax) matching the whole tag.")
        boolean regex;

        @Option(names = "--sort", paramLabel = "ORDER", defaultValue = "name",
                description = "name, or pushed (newest first).")
        String sort;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            ListTagsRequest.Order order = switch (sort.toLowerCase(Locale.ROOT)) {
                case "name" -> ListTagsRequest.Order.NAME;
                case "pushed" -> ListTagsRequest.Order.PUSHED;
                default -> throw new CommandLine.ParameterException(spec.commandLine(), "--sort '" + sort
                        + "' must be name or pushed");
            };
            ListTagsResponse.Builder all = ListTagsResponse.newBuilder();
            String token = "";
            do {
                ListTagsResponse page = s.call().listTags(ListTagsRequest.newBuilder().setRepository(repository)
                        .setFilter(filter).setFilterKind(regex ? ListTagsRequest.FilterKind.REGEX
                                : ListTagsRequest.FilterKind.GLOB).setOrder(order).setPageSize(1000)
                        .setPageToken(token).build());
                all.addAllTags(page.getTagsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            admin.print(all, () -> {
                List<List<String>> rows = new ArrayList<>();
                all.getTagsList().forEach(t -> rows.add(row(t)));
                AdminCommand.table(System.out, HEADERS, rows);
            });
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Show a tag: digest, media type, size, an index's platforms, push and pull times.")
    static final class Get extends OnTag {
        @Override
        int work(AdminCommand.Session s) throws Exception {
            printTag(admin, s.call().getTag(GetTagRequest.newBuilder().setRepository(repository).setTag(tag)
                    .build()));
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Create or move a tag to a digest; with --from, promote the manifest from another "
                    + "repository of this registry (blobs mounted, manifest copied).")
    static final class Set extends OnTag {
        @Option(names = "--digest", required = true, paramLabel = "DIGEST", description = "sha256:…")
        String digest;

        @Option(names = "--from", paramLabel = "SOURCE_REPO", defaultValue = "",
                description = "Repository holding the digest.")
        String from;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            printTag(admin, s.call().setTag(SetTagRequest.newBuilder().setRepository(repository).setTag(tag)
                    .setDigest(digest).setFromRepository(from).build()));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Delete a tag (the manifest stays).")
    static final class Delete extends OnTag {
        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call().deleteTag(DeleteTagRequest.newBuilder().setRepository(repository).setTag(tag)
                    .build());
            admin.print(r, () -> System.out.println("deleted tag " + repository + ":" + tag));
            return 0;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Every version of a tag: digest, time, through which API and request.")
    static final class History extends OnTag {
        @Override
        int work(AdminCommand.Session s) throws Exception {
            TagHistory h = s.call().getTagHistory(GetTagHistoryRequest.newBuilder().setRepository(repository)
                    .setTag(tag).build());
            admin.print(h, () -> {
                List<List<String>> rows = new ArrayList<>();
                h.getVersionsList().forEach(v -> rows.add(List.of(Long.toString(v.getVersion()), v.getAction(),
                        v.getDigest().isEmpty() ? "-" : AdminCommand.shortDigest(v.getDigest()),
                        AdminCommand.time(v.getChangedEpochMillis()), v.getVia(),
                        v.getRequestId().isEmpty() ? "-" : v.getRequestId())));
                AdminCommand.table(System.out, List.of("VERSION", "ACTION", "DIGEST", "WHEN", "VIA", "REQUEST"),
                        rows);
            });
            return 0;
        }
    }

    // no standard --version here: --version is the tag version to restore
    @Command(name = "restore", usageHelpWidth = Main.HELP_WIDTH,
            description = "Point a tag back at the digest of an earlier version, or the one it had at a time.")
    static final class Restore extends OnTag {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--version", paramLabel = "N", description = "A version from 'history'.")
        Long version;

        @Option(names = "--at", paramLabel = "TIME", description = "An instant, e.g. 2026-11-27T10:00:00Z.")
        String at;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            if ((version == null) == (at == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "say which version: either --version N "
                        + "or --at TIME");
            }
            RestoreTagRequest.Builder req = RestoreTagRequest.newBuilder().setRepository(repository).setTag(tag);
            if (version != null) {
                req.setVersion(version);
            } else {
                try {
                    req.setAtEpochMillis(Instant.parse(at).toEpochMilli());
                } catch (DateTimeParseException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--at '" + at
                            + "' is not an instant like 2026-11-27T10:00:00Z");
                }
            }
            printTag(admin, s.call().restoreTag(req.build()));
            return 0;
        }
    }

    /** {@code berth admin manifests list}. */
    @Command(name = "manifests", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Manifests of a repository, untagged ones included.",
            subcommands = {Manifests.ListManifests.class})
    static final class Manifests extends AdminCommand.Group {
        @Command(name = "list", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
                description = "List a repository's manifests with size, type, subject, tags, referrers, times.")
        static final class ListManifests extends AdminCommand.Leaf {
            @Parameters(index = "0", paramLabel = "REPO")
            String repository;

            @Option(names = "--untagged", description = "Only manifests no tag points at.")
            boolean untagged;

            @Override
            int work(AdminCommand.Session s) throws Exception {
                ListManifestsResponse.Builder all = ListManifestsResponse.newBuilder();
                String token = "";
                do {
                    ListManifestsResponse page = s.call().listManifests(ListManifestsRequest.newBuilder()
                            .setRepository(repository).setUntaggedOnly(untagged).setPageSize(1000)
                            .setPageToken(token).build());
                    all.addAllManifests(page.getManifestsList());
                    token = page.getNextPageToken();
                } while (!token.isEmpty());
                admin.print(all, () -> {
                    List<List<String>> rows = new ArrayList<>();
                    all.getManifestsList().forEach(m -> rows.add(List.of(AdminCommand.shortDigest(m.getDigest()),
                            m.getMediaType(), AdminCommand.size(m.getSize()),
                            m.getTagsCount() == 0 ? "-" : String.join(",", m.getTagsList()),
                            Long.toString(m.getReferrers()), m.getSubject().isEmpty() ? "-"
                                    : AdminCommand.shortDigest(m.getSubject()),
                            AdminCommand.time(m.getPushedEpochMillis()),
                            AdminCommand.time(m.getLastPulledEpochMillis()))));
                    AdminCommand.table(System.out, List.of("DIGEST", "MEDIA TYPE", "SIZE", "TAGS", "REFERRERS",
                            "SUBJECT", "PUSHED", "LAST PULL"), rows);
                });
                return 0;
            }
        }
    }
}
