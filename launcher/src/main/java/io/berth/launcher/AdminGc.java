package io.berth.launcher;

import io.berth.proto.admin.v1.GarbageCollectionStatus;
import io.berth.proto.admin.v1.GetGarbageCollectionStatusRequest;
import io.berth.proto.admin.v1.RunGarbageCollectionRequest;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code berth admin gc run|status}. */
@Command(name = "gc", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        description = "Online garbage collection: delete blobs nothing references (and, if asked, untagged "
                + "manifests nothing reaches) while the registry keeps serving.",
        subcommands = {AdminGc.Run.class, AdminGc.StatusCommand.class})
final class AdminGc extends AdminCommand.Group {
    private static final List<String> PHASES = List.of("manifests", "blobs", "orphans", "done");

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

    @Command(name = "run", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Run a collection and follow it to its end (a progress bar on a terminal). Interrupting "
                    + "this command does not stop the run: see 'gc status'.")
    static final class Run extends AdminCommand.Leaf {
        @Option(names = "--dry-run", description = "Say what would be deleted and how many bytes; delete nothing.")
        boolean dryRun;

        @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "",
                description = "Leave anything younger alone (default: the server's gc.grace, 1h).")
        String grace;

        @Option(names = "--untagged", description = "Also delete untagged manifests nothing reaches.")
        boolean untagged;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            return follow(admin, s.stub.withDeadlineAfter(24, TimeUnit.HOURS).runGarbageCollection(
                    RunGarbageCollectionRequest.newBuilder().setDryRun(dryRun).setGrace(grace)
                            .setDeleteUntagged(untagged).build()));
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "The collection in progress, or the last one; --follow waits for it to end.")
    static final class StatusCommand extends AdminCommand.Leaf {
        @Option(names = "--follow", description = "Follow a run in progress to its end.")
        boolean follow;

        @Override
        int work(AdminCommand.Session s) throws Exception {
            if (follow) {
                return follow(admin, s.stub.withDeadlineAfter(24, TimeUnit.HOURS).watchGarbageCollection(
                        GetGarbageCollectionStatusRequest.getDefaultInstance()));
            }
            GarbageCollectionStatus st = s.call().getGarbageCollectionStatus(
                    GetGarbageCollectionStatusRequest.getDefaultInstance());
            admin.print(st, () -> {
                System.out.println(summary(st));
                System.out.println("started " + AdminCommand.time(st.getStartedEpochMillis()) + ", "
                        + (st.getFinishedEpochMillis() == 0 ? "phase " + st.getPhase()
                        : "finished " + AdminCommand.time(st.getFinishedEpochMillis())) + ", grace "
                        + st.getGrace());
            });
            return 0;
        }
    }
}
