package io.berth.launcher;

import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.CreatedRobot;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.proto.admin.v1.ListRobotsResponse;
import io.berth.proto.admin.v1.RevokeRobotRequest;
import io.berth.proto.admin.v1.Robot;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth admin robots create|list|revoke}. */
@Command(name = "robots", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
        description = "Robot accounts for CI: create one (its secret is printed once), list them, revoke one.",
        subcommands = {AdminRobots.Create.class, AdminRobots.ListRobots.class, AdminRobots.Revoke.class})
final class AdminRobots extends AdminCommand.Group {
    static final List<String> HEADERS = List.of("NAME", "REPOSITORIES", "ACTIONS", "CREATED", "BY", "DESCRIPTION");

    static List<String> row(Robot r) {
        return List.of(r.getName(), String.join(",", r.getRepositoriesList()), String.join(",", r.getActionsList()),
                AdminCommand.time(r.getCreatedEpochMillis()), r.getCreatedBy(), r.getDescription());
    }

    @Command(name = "create", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = {"Create a robot account and print its secret (shown only now). Log in with "
                    + "'docker login -u robot:NAME --password-stdin'."})
    static final class Create extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "NAME", description = "a-z, 0-9, '.', '_', '-'; up to 64.")
        String name;

        @Option(names = "--repositories", paramLabel = "GLOB", split = ",", required = true,
                description = "Repository globs it may act on, comma-separated ('team-a/**').")
        List<String> repositories;

        @Option(names = "--actions", paramLabel = "ACTION", split = ",", required = true,
                description = "pull, push, delete, admin; comma-separated.")
        List<String> actions;

        @Option(names = "--description", paramLabel = "TEXT", defaultValue = "", description = "What it is for.")
        String description;

        @Override
        int work(AdminCommand.Session s) {
            CreatedRobot c = s.call().createRobot(CreateRobotRequest.newBuilder().setName(name)
                    .addAllRepositories(repositories).addAllActions(actions).setDescription(description).build());
            admin.print(c, () -> {
                System.out.println("created robot:" + c.getRobot().getName() + " (" + String.join(",",
                        c.getRobot().getActionsList()) + " on " + String.join(",", c.getRobot().getRepositoriesList())
                        + "); its secret, shown only now:");
                System.out.println(c.getSecret());
            });
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "List robot accounts (never their secrets).")
    static final class ListRobots extends AdminCommand.Leaf {
        @Override
        int work(AdminCommand.Session s) {
            ListRobotsResponse r = s.call().listRobots(ListRobotsRequest.getDefaultInstance());
            admin.print(r, () -> {
                List<List<String>> rows = new ArrayList<>();
                r.getRobotsList().forEach(x -> rows.add(row(x)));
                AdminCommand.table(System.out, HEADERS, rows);
            });
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, usageHelpWidth = Main.HELP_WIDTH,
            description = "Revoke a robot account: its logins fail from now on.")
    static final class Revoke extends AdminCommand.Leaf {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        int work(AdminCommand.Session s) {
            var r = s.call().revokeRobot(RevokeRobotRequest.newBuilder().setName(name).build());
            admin.print(r, () -> System.out.println("revoked robot:" + name));
            return 0;
        }
    }
}
