package io.berth.launcher;

import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.GetGarbageCollectionStatusRequest;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code berth admin gc run|status}. */
final class AdminGc {
    private static final List<String> PHASES = List.of("manifests", "blobs", "orphans", "done");

    private AdminGc() {}

    static Command command() {
        return AdminCommand.group(
                "gc",
                "Online garbage collection: delete blobs nothing references (and, if asked, "
                        + "untagged manifests nothing reaches) while the registry keeps serving.",
                AdminCommand.leaf(
                                "run",
                                "Run a collection and follow it to its end (a progress bar on a terminal). "
                                        + "Interrupting this command does not stop the run: see 'gc status'.",
                                Run::new)
                        .options(Run.DRY_RUN, Run.GRACE, Run.UNTAGGED),
                AdminCommand.leaf(
                                "status",
                                "The collection in progress, or the last one; --follow waits for it to " + "end.",
                                StatusCommand::new)
                        .option(StatusCommand.FOLLOW));
    }

    static String summary(GarbageCollectionStatus s) {
        String verb = s.getDryRun() ? "would delete" : "deleted";
        return "gc " + s.getId() + " " + s.getState().toLowerCase() + (s.getDryRun() ? " (dry run)" : "") + ": "
                + verb + " " + s.getManifestsDeleted() + " manifests and " + s.getBlobsDeleted() + " blobs ("
                + AdminCommand.size(s.getBytesFreed()) + "); " + s.getBlobsExamined() + " blobs examined"
                + (s.getError().isEmpty() ? "" : "; error: " + s.getError());
    }

    /** One line of progress: a bar over the phases, and the counts so far. */
    static String bar(GarbageCollectionStatus s) {
        int phase = Math.max(0, PHASES.indexOf(s.getPhase()));
        int width = 24;
        int filled = width * phase / (PHASES.size() - 1);
        return "[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + s.getPhase() + ": "
                + s.getBlobsExamined() + " examined, " + s.getManifestsDeleted() + " manifests and "
                + s.getBlobsDeleted() + " blobs " + (s.getDryRun() ? "to delete" : "deleted") + " ("
                + AdminCommand.size(s.getBytesFreed()) + ")";
    }

    /** Follows a stream of progress to its end; a bar on a terminal, the summary otherwise. */
    static int follow(AdminCommand admin, Iterator<GarbageCollectionStatus> updates) {
        boolean terminal = System.console() != null && !admin.json;
        PrintStream out = System.out;
        GarbageCollectionStatus last = null;
        while (updates.hasNext()) {
            last = updates.next();
            if (terminal) {
                out.print("\r" + bar(last) + "\u001b[K");
                out.flush();
            }
        }
        if (terminal) {
            out.println();
        }
        if (last == null) {
            System.err.println("berth admin: the server ended the stream without a status");
            return AdminCommand.EXIT_SERVER;
        }
        GarbageCollectionStatus end = last;
        admin.print(end, () -> {
            out.println(summary(end));
            if (end.getDryRun()) {
                end.getItemsList().forEach(i -> out.println("  " + i));
            }
        });
        return end.getState().equals("FAILED") ? AdminCommand.EXIT_SERVER : 0;
    }

    static final class Run extends AdminCommand.Leaf {
        static final Option DRY_RUN =
                Option.flag("Say what would be deleted and how many bytes; delete nothing.", "--dry-run");
        static final Option GRACE = Option.value(
                        "DURATION",
                        "Leave anything younger alone (default: the server's " + "gc.grace, 1h).",
                        "--grace")
                .defaultValue("");
        static final Option UNTAGGED = Option.flag("Also delete untagged manifests nothing reaches.", "--untagged");

        private final boolean dryRun;
        private final String grace;
        private final boolean untagged;

        Run(Args args) {
            super(args);
            dryRun = args.isSet(DRY_RUN);
            grace = args.value(GRACE);
            untagged = args.isSet(UNTAGGED);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            return follow(
                    admin,
                    s.stub.withDeadlineAfter(24, TimeUnit.HOURS)
                            .runGarbageCollection(RunGarbageCollectionRequest.newBuilder()
                                    .setDryRun(dryRun)
                                    .setGrace(grace)
                                    .setDeleteUntagged(untagged)
                                    .build()));
        }
    }

    static final class StatusCommand extends AdminCommand.Leaf {
        static final Option FOLLOW = Option.flag("Follow a run in progress to its end.", "--follow");

        private final boolean follow;

        StatusCommand(Args args) {
            super(args);
            follow = args.isSet(FOLLOW);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            if (follow) {
                return follow(
                        admin,
                        s.stub.withDeadlineAfter(24, TimeUnit.HOURS)
                                .watchGarbageCollection(GetGarbageCollectionStatusRequest.getDefaultInstance()));
            }
            GarbageCollectionStatus st =
                    s.call().getGarbageCollectionStatus(GetGarbageCollectionStatusRequest.getDefaultInstance());
            admin.print(st, () -> {
                System.out.println(summary(st));
                System.out.println("started " + AdminCommand.time(st.getStartedEpochMillis()) + ", "
                        + (st.getFinishedEpochMillis() == 0
                                ? "phase " + st.getPhase()
                                : "finished " + AdminCommand.time(st.getFinishedEpochMillis()))
                        + ", grace "
                        + st.getGrace());
            });
            return 0;
        }
    }
}
