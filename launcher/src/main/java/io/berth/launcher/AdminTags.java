package io.berth.launcher;

import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.Positional;
import io.berth.launcher.cli.UsageError;
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
import io.berth.proto.admin.v1.TagVersion;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code berth admin tags …} and {@code berth admin manifests list}. */
final class AdminTags {
    static final Positional REPO = Positional.of("REPO");
    static final Positional TAG = Positional.of("TAG");

    private AdminTags() {}

    static Command command() {
        return AdminCommand.group(
                "tags",
                "Tags: list, show, set (retag, promote from another repository), delete, " + "history, restore.",
                AdminCommand.leaf("list", "List a repository's tags (all pages).", ListTags::new)
                        .positional(REPO)
                        .options(ListTags.FILTER, ListTags.REGEX, ListTags.SORT),
                AdminCommand.leaf(
                                "get",
                                "Show a tag: digest, media type, size, an index's platforms, push and pull " + "times.",
                                Get::new)
                        .positional(REPO)
                        .positional(TAG),
                AdminCommand.leaf(
                                "set",
                                "Create or move a tag to a digest; with --from, promote the manifest from "
                                        + "another repository of this registry (blobs mounted, manifest copied).",
                                Set::new)
                        .positional(REPO)
                        .positional(TAG)
                        .options(Set.DIGEST, Set.FROM),
                AdminCommand.leaf("delete", "Delete a tag (the manifest stays).", Delete::new)
                        .positional(REPO)
                        .positional(TAG),
                AdminCommand.leaf(
                                "history",
                                "Every version of a tag: digest and the one before, time, through which "
                                        + "API, by whom, in which request.",
                                History::new)
                        .positional(REPO)
                        .positional(TAG),
                // no standard --version here: --version is the tag version to restore
                Command.named("restore")
                        .option(Option.usageHelp())
                        .description(
                                "Point a tag back at the digest of an earlier version, or the one it had at a time.")
                        .positional(REPO)
                        .positional(TAG)
                        .options(Restore.VERSION, Restore.AT)
                        .runs(args -> new Restore(args).execute()));
    }

    static final List<String> HEADERS = List.of("TAG", "DIGEST", "MEDIA TYPE", "SIZE", "PUSHED", "LAST PULL");

    static List<String> row(Tag t) {
        return List.of(
                t.getName(),
                AdminCommand.shortDigest(t.getDigest()),
                t.getMediaType(),
                AdminCommand.size(t.getSize()),
                AdminCommand.time(t.getPushedEpochMillis()),
                AdminCommand.time(t.getLastPulledEpochMillis()));
    }

    /** Common to commands on one tag. */
    abstract static class OnTag extends AdminCommand.Leaf {
        final String repository;
        final String tag;

        OnTag(Args args) {
            super(args);
            repository = args.value(REPO);
            tag = args.value(TAG);
        }

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

    static final class ListTags extends AdminCommand.Leaf {
        static final Option FILTER = Option.value(
                        "PATTERN",
                        "Only tags matching PATTERN: a glob (* and ?); with "
                                + "--regex, a regular expression matching the whole tag.",
                        "--filter")
                .defaultValue("");
        static final Option REGEX = Option.flag(
                "A switch, it takes no value: read the PATTERN of --filter as a "
                        + "regular expression (RE2 syntax) instead of a glob, e.g. --filter 'v1\\..*' --regex.",
                "--regex");
        static final Option SORT = Option.value("ORDER", "name, or pushed (newest first).", "--sort")
                .defaultValue("name");

        private final String repository;
        private final String filter;
        private final boolean regex;
        private final String sort;

        ListTags(Args args) {
            super(args);
            repository = args.value(REPO);
            filter = args.value(FILTER);
            regex = args.isSet(REGEX);
            sort = args.value(SORT);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            if (regex && filter.isEmpty()) {
                throw new UsageError(
                        "--regex changes --filter, and no " + "--filter was given: --filter PATTERN --regex");
            }
            ListTagsRequest.Order order = switch (sort.toLowerCase(Locale.ROOT)) {
                case "name" -> ListTagsRequest.Order.NAME;
                case "pushed" -> ListTagsRequest.Order.PUSHED;
                default -> throw new UsageError("--sort '" + sort + "' must be name or pushed");
            };
            ListTagsResponse.Builder all = ListTagsResponse.newBuilder();
            String token = "";
            do {
                ListTagsResponse page = s.call()
                        .listTags(ListTagsRequest.newBuilder()
                                .setRepository(repository)
                                .setFilter(filter)
                                .setFilterKind(
                                        regex ? ListTagsRequest.FilterKind.REGEX : ListTagsRequest.FilterKind.GLOB)
                                .setOrder(order)
                                .setPageSize(1000)
                                .setPageToken(token)
                                .build());
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

    static final class Get extends OnTag {
        Get(Args args) {
            super(args);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            printTag(
                    admin,
                    s.call()
                            .getTag(GetTagRequest.newBuilder()
                                    .setRepository(repository)
                                    .setTag(tag)
                                    .build()));
            return 0;
        }
    }

    static final class Set extends OnTag {
        static final Option DIGEST = Option.value(
                        "DIGEST",
                        "The manifest's digest, whole or its beginning as the "
                                + "tables print it (sha256:0123456789ab; 6 or more hex digits) when that names one manifest.",
                        "--digest")
                .required();
        static final Option FROM = Option.value("SOURCE_REPO", "Repository holding the digest.", "--from")
                .defaultValue("");

        private final String digest;
        private final String from;

        Set(Args args) {
            super(args);
            digest = args.value(DIGEST);
            from = args.value(FROM);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            printTag(
                    admin,
                    s.call()
                            .setTag(SetTagRequest.newBuilder()
                                    .setRepository(repository)
                                    .setTag(tag)
                                    .setDigest(digest)
                                    .setFromRepository(from)
                                    .build()));
            return 0;
        }
    }

    static final class Delete extends OnTag {
        Delete(Args args) {
            super(args);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call()
                    .deleteTag(DeleteTagRequest.newBuilder()
                            .setRepository(repository)
                            .setTag(tag)
                            .build());
            admin.print(r, () -> System.out.println("deleted tag " + repository + ":" + tag));
            return 0;
        }
    }

    static final class History extends OnTag {
        static final List<String> HEADERS =
                List.of("VERSION", "ACTION", "DIGEST", "PREVIOUS", "WHEN", "VIA", "ACTOR", "REQUEST");

        History(Args args) {
            super(args);
        }

        static List<String> row(TagVersion v) {
            return List.of(
                    Long.toString(v.getVersion()),
                    v.getAction(),
                    orDash(AdminCommand.shortDigest(v.getDigest())),
                    orDash(AdminCommand.shortDigest(v.getPreviousDigest())),
                    AdminCommand.time(v.getChangedEpochMillis()),
                    v.getVia(),
                    orDash(v.getActor()),
                    orDash(v.getRequestId()));
        }

        private static String orDash(String s) {
            return s.isEmpty() ? "-" : s;
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            TagHistory h = s.call()
                    .getTagHistory(GetTagHistoryRequest.newBuilder()
                            .setRepository(repository)
                            .setTag(tag)
                            .build());
            admin.print(h, () -> {
                List<List<String>> rows = new ArrayList<>();
                h.getVersionsList().forEach(v -> rows.add(row(v)));
                AdminCommand.table(System.out, HEADERS, rows);
            });
            return 0;
        }
    }

    static final class Restore extends OnTag {
        static final Option VERSION =
                Option.value("N", "A version from 'history'.", "--version").number();
        static final Option AT = Option.value("TIME", "An instant, e.g. 2026-11-27T10:00:00Z.", "--at");

        private final Long version;
        private final String at;

        Restore(Args args) {
            super(args);
            version = args.number(VERSION);
            at = args.value(AT);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            if ((version == null) == (at == null)) {
                throw new UsageError("say which version: either --version N " + "or --at TIME");
            }
            RestoreTagRequest.Builder req =
                    RestoreTagRequest.newBuilder().setRepository(repository).setTag(tag);
            if (version != null) {
                req.setVersion(version);
            } else {
                try {
                    req.setAtEpochMillis(Instant.parse(at).toEpochMilli());
                } catch (DateTimeParseException e) {
                    throw new UsageError("--at '" + at + "' is not an instant like 2026-11-27T10:00:00Z");
                }
            }
            printTag(admin, s.call().restoreTag(req.build()));
            return 0;
        }
    }

    /** {@code berth admin manifests list}. */
    static final class Manifests {
        private Manifests() {}

        static Command command() {
            return AdminCommand.group(
                    "manifests",
                    "Manifests of a repository, untagged ones included.",
                    AdminCommand.leaf(
                                    "list",
                                    "List a repository's manifests with size, type, subject, tags, referrers, "
                                            + "times.",
                                    ListManifests::new)
                            .positional(REPO)
                            .option(ListManifests.UNTAGGED));
        }

        static final class ListManifests extends AdminCommand.Leaf {
            static final Option UNTAGGED = Option.flag("Only manifests no tag points at.", "--untagged");

            private final String repository;
            private final boolean untagged;

            ListManifests(Args args) {
                super(args);
                repository = args.value(REPO);
                untagged = args.isSet(UNTAGGED);
            }

            @Override
            int work(AdminCommand.Session s) throws Exception {
                ListManifestsResponse.Builder all = ListManifestsResponse.newBuilder();
                String token = "";
                do {
                    ListManifestsResponse page = s.call()
                            .listManifests(ListManifestsRequest.newBuilder()
                                    .setRepository(repository)
                                    .setUntaggedOnly(untagged)
                                    .setPageSize(1000)
                                    .setPageToken(token)
                                    .build());
                    all.addAllManifests(page.getManifestsList());
                    token = page.getNextPageToken();
                } while (!token.isEmpty());
                admin.print(all, () -> {
                    List<List<String>> rows = new ArrayList<>();
                    all.getManifestsList()
                            .forEach(m -> rows.add(List.of(
                                    AdminCommand.shortDigest(m.getDigest()),
                                    m.getMediaType(),
                                    AdminCommand.size(m.getSize()),
                                    m.getTagsCount() == 0 ? "-" : String.join(",", m.getTagsList()),
                                    Long.toString(m.getReferrers()),
                                    m.getSubject().isEmpty() ? "-" : AdminCommand.shortDigest(m.getSubject()),
                                    AdminCommand.time(m.getPushedEpochMillis()),
                                    AdminCommand.time(m.getLastPulledEpochMillis()))));
                    AdminCommand.table(
                            System.out,
                            List.of(
                                    "DIGEST",
                                    "MEDIA TYPE",
                                    "SIZE",
                                    "TAGS",
                                    "REFERRERS",
                                    "SUBJECT",
                                    "PUSHED",
                                    "LAST PULL"),
                            rows);
                });
                return 0;
            }
        }
    }
}
