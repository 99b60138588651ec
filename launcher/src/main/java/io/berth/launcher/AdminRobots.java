package io.berth.launcher;

import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.Positional;
import io.berth.proto.admin.v1.CreateRobotRequest;
import io.berth.proto.admin.v1.CreatedRobot;
import io.berth.proto.admin.v1.ListRobotsRequest;
import io.berth.proto.admin.v1.ListRobotsResponse;
import io.berth.proto.admin.v1.RevokeRobotRequest;
import io.berth.proto.admin.v1.Robot;
import java.util.ArrayList;
import java.util.List;

/** {@code berth admin robots create|list|revoke}. */
final class AdminRobots {
    private AdminRobots() {}

    static Command command() {
        return AdminCommand.group(
                "robots",
                "Robot accounts for CI: create one (its secret is printed once), list them, " + "revoke one.",
                AdminCommand.leaf(
                                "create",
                                "Create a robot account and print its secret (shown only now). Log in with "
                                        + "'docker login -u robot:NAME --password-stdin'.",
                                Create::new)
                        .positional(Create.NAME)
                        .options(Create.REPOSITORIES, Create.ACTIONS, Create.DESCRIPTION),
                AdminCommand.leaf("list", "List robot accounts (never their secrets).", ListRobots::new),
                AdminCommand.leaf("revoke", "Revoke a robot account: its logins fail from now on.", Revoke::new)
                        .positional(Revoke.NAME));
    }

    static final List<String> HEADERS = List.of("NAME", "REPOSITORIES", "ACTIONS", "CREATED", "BY", "DESCRIPTION");

    static List<String> row(Robot r) {
        return List.of(
                r.getName(),
                String.join(",", r.getRepositoriesList()),
                String.join(",", r.getActionsList()),
                AdminCommand.time(r.getCreatedEpochMillis()),
                r.getCreatedBy(),
                r.getDescription());
    }

    static final class Create extends AdminCommand.Leaf {
        static final Positional NAME = Positional.of("NAME", "a-z, 0-9, '.', '_', '-'; up to 64.");
        static final Option REPOSITORIES = Option.value(
                        "GLOB", "Repository globs it may act on, comma-separated " + "('team-a/**').", "--repositories")
                .list(",")
                .required();
        static final Option ACTIONS = Option.value("ACTION", "pull, push, delete, admin; comma-separated.", "--actions")
                .list(",")
                .required();
        static final Option DESCRIPTION =
                Option.value("TEXT", "What it is for.", "--description").defaultValue("");

        private final String name;
        private final List<String> repositories;
        private final List<String> actions;
        private final String description;

        Create(Args args) {
            super(args);
            name = args.value(NAME);
            repositories = args.values(REPOSITORIES);
            actions = args.values(ACTIONS);
            description = args.value(DESCRIPTION);
        }

        @Override
        int work(AdminCommand.Session s) {
            CreatedRobot c = s.call()
                    .createRobot(CreateRobotRequest.newBuilder()
                            .setName(name)
                            .addAllRepositories(repositories)
                            .addAllActions(actions)
                            .setDescription(description)
                            .build());
            admin.print(c, () -> {
                System.out.println("created robot:" + c.getRobot().getName() + " ("
                        + String.join(",", c.getRobot().getActionsList()) + " on "
                        + String.join(",", c.getRobot().getRepositoriesList())
                        + "); its secret, shown only now:");
                System.out.println(c.getSecret());
            });
            return 0;
        }
    }

    static final class ListRobots extends AdminCommand.Leaf {
        ListRobots(Args args) {
            super(args);
        }

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

    static final class Revoke extends AdminCommand.Leaf {
        static final Positional NAME = Positional.of("NAME");

        private final String name;

        Revoke(Args args) {
            super(args);
            name = args.value(NAME);
        }

        @Override
        int work(AdminCommand.Session s) {
            var r = s.call()
                    .revokeRobot(RevokeRobotRequest.newBuilder().setName(name).build());
            admin.print(r, () -> System.out.println("revoked robot:" + name));
            return 0;
        }
    }
}
