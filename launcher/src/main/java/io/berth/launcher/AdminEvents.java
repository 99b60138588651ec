package io.berth.launcher;

import io.berth.core.config.Durations;
import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.UsageError;
import io.berth.proto.admin.v1.Event;
import io.berth.proto.admin.v1.ListEventsRequest;
import io.berth.proto.admin.v1.ListEventsResponse;
import io.berth.proto.admin.v1.WatchEventsRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** {@code berth admin events list|watch}: the events the outbox keeps, also without Kafka. */
final class AdminEvents {
    static final Option REPOSITORIES = Option.value(
                    "GLOB", "Only events of repositories the glob matches ('team-a/**').", "--repositories")
            .defaultValue("");
    static final Option TYPES = Option.value(
                    "TYPE",
                    "Only events of these types, comma-separated: manifest.pushed, tag.created, tag.moved, "
                            + "tag.deleted, manifest.deleted, blob.mounted, blob.deleted, repository.deleted, "
                            + "manifest.pulled.",
                    "--type")
            .list(",");
    static final Option AFTER = Option.value(
                    "SEQUENCE", "Start after the event with this sequence number (0: the first ever).", "--after")
            .number();
    static final Option SINCE = Option.value(
            "TIME", "Start at this time: RFC 3339 (2026-11-27T09:00:00Z) or a duration ago (1h, 30m).", "--since");

    static final List<String> HEADERS = List.of("SEQUENCE", "TIME", "TYPE", "REPOSITORY", "SUBJECT", "REQUEST");

    private AdminEvents() {}

    static Command command() {
        return AdminCommand.group(
                "events",
                "Events (docs/events.md) as the registry keeps them for events.retention, also without Kafka: "
                        + "list them, or watch new ones arrive.",
                AdminCommand.leaf(
                                "list",
                                "List events in sequence order, from the oldest kept unless --after or --since "
                                        + "says otherwise.",
                                ListEvents::new)
                        .options(REPOSITORIES, TYPES, AFTER, SINCE, ListEvents.LIMIT),
                AdminCommand.leaf(
                                "watch",
                                "Print events as they are committed, from now unless --after or --since says "
                                        + "otherwise, until interrupted; --json prints one JSON object a line.",
                                Watch::new)
                        .options(REPOSITORIES, TYPES, AFTER, SINCE));
    }

    /** The start options: at most one of --after and --since. */
    private record Start(Long after, Long sinceMillis) {
        static Start of(Args args) {
            Long after = args.number(AFTER);
            String since = args.value(SINCE);
            if (after != null && since != null) {
                throw new UsageError("--after and --since are alternatives: give one");
            }
            if (after != null && after < 0) {
                throw new UsageError("--after " + after + ": a sequence number is 0 or more");
            }
            return new Start(after, since == null ? null : sinceMillis(since));
        }

        static long sinceMillis(String since) {
            try {
                return Instant.parse(since).toEpochMilli();
            } catch (DateTimeParseException e) {
                Duration ago = Durations.parse(since, Duration.ZERO, Duration.ofDays(3650))
                        .orElseThrow(() -> new UsageError("--since '" + since
                                + "' is neither an RFC 3339 time (2026-11-27T09:00:00Z) nor a duration ago (1h)"));
                return System.currentTimeMillis() - ago.toMillis();
            }
        }
    }

    static String shortType(String type) {
        return type.startsWith("io.berth.") ? type.substring("io.berth.".length()) : type;
    }

    static List<String> row(Event e) {
        return List.of(
                Long.toString(e.getSequence()),
                AdminCommand.time(e.getRecordedEpochMillis()),
                shortType(e.getType()),
                e.getRepository(),
                e.getSubject(),
                e.getRequestId());
    }

    static final class ListEvents extends AdminCommand.Leaf {
        static final Option LIMIT = Option.value("N", "Print at most N events (default 1000).", "--limit")
                .number()
                .defaultValue("1000");

        private final ListEventsRequest.Builder request = ListEventsRequest.newBuilder();
        private final long limit;

        ListEvents(Args args) {
            super(args);
            Start start = Start.of(args);
            if (start.after() != null) {
                request.setAfterSequence(start.after());
            } else if (start.sinceMillis() != null) {
                request.setSinceEpochMillis(start.sinceMillis());
            }
            request.setRepositories(args.value(REPOSITORIES)).addAllTypes(args.values(TYPES));
            limit = args.number(LIMIT);
            if (limit < 1) {
                throw new UsageError("--limit " + limit + ": 1 or more");
            }
        }

        @Override
        int work(AdminCommand.Session s) {
            ListEventsResponse.Builder all = ListEventsResponse.newBuilder();
            String token = "";
            do {
                ListEventsResponse page = s.call()
                        .listEvents(request.setPageToken(token)
                                .setPageSize((int) Math.min(1000, limit - all.getEventsCount()))
                                .build());
                all.addAllEvents(page.getEventsList());
                all.setLastSequence(page.getLastSequence());
                token = page.getNextPageToken();
                all.setNextPageToken(token);
            } while (!token.isEmpty() && all.getEventsCount() < limit);
            admin.print(all, () -> {
                List<List<String>> rows = new ArrayList<>();
                all.getEventsList().forEach(e -> rows.add(row(e)));
                AdminCommand.table(System.out, HEADERS, rows);
                if (!all.getNextPageToken().isEmpty()) {
                    System.out.println("(more: --after " + all.getLastSequence() + ")");
                }
            });
            return 0;
        }
    }

    static final class Watch extends AdminCommand.Leaf {
        private final WatchEventsRequest.Builder request = WatchEventsRequest.newBuilder();

        Watch(Args args) {
            super(args);
            Start start = Start.of(args);
            if (start.after() != null) {
                request.setAfterSequence(start.after());
            } else if (start.sinceMillis() != null) {
                request.setSinceEpochMillis(start.sinceMillis());
            }
            request.setRepositories(args.value(REPOSITORIES)).addAllTypes(args.values(TYPES));
        }

        @Override
        int work(AdminCommand.Session s) {
            PrintStream out = System.out;
            Iterator<Event> events = s.stub.watchEvents(request.build());
            if (!admin.json) {
                out.println(String.join("  ", HEADERS));
            }
            while (events.hasNext()) {
                Event e = events.next();
                out.println(admin.json ? AdminJson.line(e) : String.join("  ", row(e)));
                out.flush();
            }
            return 0;
        }
    }
}
