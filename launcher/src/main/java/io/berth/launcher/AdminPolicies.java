package io.berth.launcher;

import io.berth.admin.RegistryAdminService;
import io.berth.core.error.RegistryException;
import io.berth.core.retention.RetentionPolicy;
import io.berth.launcher.cli.Args;
import io.berth.launcher.cli.Command;
import io.berth.launcher.cli.Option;
import io.berth.launcher.cli.Positional;
import io.berth.launcher.cli.UsageError;
import io.berth.proto.admin.v1.AddImmutabilityRuleRequest;
import io.berth.proto.admin.v1.DeleteImmutabilityRuleRequest;
import io.berth.proto.admin.v1.DeleteRetentionPolicyRequest;
import io.berth.proto.admin.v1.DryRunRetentionRequest;
import io.berth.proto.admin.v1.GetRetentionPolicyRequest;
import io.berth.proto.admin.v1.ImmutabilityRule;
import io.berth.proto.admin.v1.ListImmutabilityRulesRequest;
import io.berth.proto.admin.v1.ListRetentionPoliciesRequest;
import io.berth.proto.admin.v1.PutRetentionPolicyRequest;
import io.berth.proto.admin.v1.RetentionPlan;
import io.berth.proto.admin.v1.RetentionPolicyInfo;
import io.berth.proto.admin.v1.RetentionRunResult;
import io.berth.proto.admin.v1.RunRetentionRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/** {@code berth admin retention …} and {@code berth admin immutability …}. */
final class AdminPolicies {
    private AdminPolicies() {}

    static final Positional NAME = Positional.of("NAME");

    static Command retention() {
        return AdminCommand.group(
                "retention",
                "Retention policies: apply one from a file, list, show, delete, dry-run, " + "run.",
                AdminCommand.leaf(
                                "apply",
                                "Create or replace the policy a YAML file describes (docs/admin-api.md).",
                                Apply::new)
                        .option(Apply.FILE),
                AdminCommand.leaf(
                        "list", "List retention policies with their schedule and last run.", ListPolicies::new),
                AdminCommand.leaf("get", "Show a policy (as YAML a file for 'apply' would hold).", GetPolicy::new)
                        .positional(NAME),
                AdminCommand.leaf("delete", "Delete a policy (what it deleted stays deleted).", DeletePolicy::new)
                        .positional(NAME),
                AdminCommand.leaf(
                                "dry-run",
                                "Show what a run would delete now and why each tag is kept or not; deletes "
                                        + "nothing. Prints a plan id for 'run --plan'.",
                                DryRun::new)
                        .positional(NAME),
                AdminCommand.leaf(
                                "run",
                                "Run a policy now. With --plan, delete only what that dry run listed and is "
                                        + "still eligible.",
                                Run::new)
                        .positional(NAME)
                        .option(Run.PLAN));
    }

    static Command immutability() {
        return AdminCommand.group(
                "immutability",
                "Immutability rules: a matching tag, once pushed, cannot be moved or " + "deleted.",
                AdminCommand.leaf("add", "Add a rule.", Add::new).options(Add.REPOSITORIES, Add.TAGS),
                AdminCommand.leaf("list", "List rules.", ListRules::new),
                AdminCommand.leaf("delete", "Delete a rule by id.", DeleteRule::new)
                        .positional(DeleteRule.ID));
    }

    /** Reads a policy file; its mistakes are usage errors naming the file and key. */
    static RetentionPolicy read(Path file) {
        Object yaml;
        try (InputStream in = Files.newInputStream(file)) {
            yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (IOException e) {
            throw new UsageError("cannot read policy file " + file + ": "
                    + (e instanceof NoSuchFileException ? "no such file" : e.getMessage()));
        } catch (YAMLException e) {
            throw new UsageError("policy file " + file + " is not valid YAML: "
                    + e.getMessage().replace('\n', ' '));
        }
        if (!(yaml instanceof Map<?, ?> map)) {
            throw new UsageError("policy file " + file + " must be a mapping (name, repositories, rules, …)");
        }
        try {
            return RetentionPolicy.fromMap(map);
        } catch (RegistryException e) {
            throw new UsageError(file + ": " + e.getMessage());
        }
    }

    static void printPolicies(List<RetentionPolicyInfo> policies) {
        List<List<String>> rows = new ArrayList<>();
        for (RetentionPolicyInfo p : policies) {
            rows.add(List.of(
                    p.getPolicy().getName(),
                    String.join(",", p.getPolicy().getRepositoriesList()),
                    Integer.toString(p.getPolicy().getRulesCount()),
                    p.getPolicy().getSchedule().isEmpty() ? "-" : p.getPolicy().getSchedule(),
                    AdminCommand.time(p.getLastRunEpochMillis()),
                    p.getLastRun().isEmpty() ? "-" : p.getLastRun()));
        }
        AdminCommand.table(
                System.out, List.of("POLICY", "REPOSITORIES", "RULES", "SCHEDULE", "LAST RUN", "RESULT"), rows);
    }

    static final class Apply extends AdminCommand.Leaf {
        static final Option FILE =
                Option.value("POLICY.yaml", "", "-f", "--file").path().required();

        private final Path file;

        Apply(Args args) {
            super(args);
            file = args.path(FILE);
        }

        @Override
        int work(AdminCommand.Session s) {
            RetentionPolicy policy = read(file);
            RetentionPolicyInfo p = s.call()
                    .putRetentionPolicy(PutRetentionPolicyRequest.newBuilder()
                            .setPolicy(RegistryAdminService.policy(policy))
                            .build());
            admin.print(
                    p,
                    () -> System.out.println(
                            (p.getCreatedEpochMillis() == p.getUpdatedEpochMillis() ? "created" : "updated")
                                    + " retention policy " + p.getPolicy().getName()));
            return 0;
        }
    }

    static final class ListPolicies extends AdminCommand.Leaf {
        ListPolicies(Args args) {
            super(args);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call().listRetentionPolicies(ListRetentionPoliciesRequest.getDefaultInstance());
            admin.print(r, () -> printPolicies(r.getPoliciesList()));
            return 0;
        }
    }

    static final class GetPolicy extends AdminCommand.Leaf {
        private final String name;

        GetPolicy(Args args) {
            super(args);
            name = args.value(NAME);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            RetentionPolicyInfo p = s.call()
                    .getRetentionPolicy(
                            GetRetentionPolicyRequest.newBuilder().setName(name).build());
            admin.print(p, () -> {
                Map<String, Object> map = RetentionPolicy.fromMap(RegistryAdminService.policyMap(p.getPolicy()))
                        .toMap();
                DumperOptions o = new DumperOptions();
                o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
                System.out.print(new Yaml(o).dump(map));
                System.out.println("# last run: " + AdminCommand.time(p.getLastRunEpochMillis())
                        + (p.getLastRun().isEmpty() ? "" : " (" + p.getLastRun() + ")"));
            });
            return 0;
        }
    }

    static final class DeletePolicy extends AdminCommand.Leaf {
        private final String name;

        DeletePolicy(Args args) {
            super(args);
            name = args.value(NAME);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call()
                    .deleteRetentionPolicy(DeleteRetentionPolicyRequest.newBuilder()
                            .setName(name)
                            .build());
            admin.print(r, () -> System.out.println("deleted retention policy " + name));
            return 0;
        }
    }

    static final class DryRun extends AdminCommand.Leaf {
        private final String name;

        DryRun(Args args) {
            super(args);
            name = args.value(NAME);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            RetentionPlan p = s.call()
                    .dryRunRetention(
                            DryRunRetentionRequest.newBuilder().setName(name).build());
            admin.print(p, () -> {
                List<List<String>> rows = new ArrayList<>();
                p.getTagsList()
                        .forEach(t -> rows.add(List.of(
                                t.getRepository() + ":" + t.getTag(), t.getKeep() ? "keep" : "DELETE", t.getReason())));
                AdminCommand.table(System.out, List.of("TAG", "DECISION", "WHY"), rows);
                if (p.getManifestsCount() > 0) {
                    System.out.println();
                    List<List<String>> m = new ArrayList<>();
                    p.getManifestsList()
                            .forEach(d -> m.add(List.of(
                                    d.getRepository() + "@" + AdminCommand.shortDigest(d.getDigest()),
                                    AdminCommand.size(d.getSize()),
                                    d.getReason())));
                    AdminCommand.table(System.out, List.of("MANIFEST TO DELETE", "SIZE", "WHY"), m);
                }
                System.out.println();
                System.out.println(p.getTagsKept() + " tags kept, " + p.getTagsDeleted() + " tags and "
                        + p.getManifestsCount() + " manifests to delete. "
                        + (p.getPlanId().isEmpty()
                                // a read-only token's dry run is not stored
                                ? "Not stored (a read-only token): no plan to run."
                                : "Plan " + p.getPlanId() + ": run it with 'berth admin retention run " + name
                                        + " --plan " + p.getPlanId() + "'."));
            });
            return 0;
        }
    }

    static final class Run extends AdminCommand.Leaf {
        static final Option PLAN =
                Option.value("ID", "A dry run's plan id.", "--plan").defaultValue("");

        private final String name;
        private final String plan;

        Run(Args args) {
            super(args);
            name = args.value(NAME);
            plan = args.value(PLAN);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            RetentionRunResult r = s.call()
                    .runRetention(RunRetentionRequest.newBuilder()
                            .setName(name)
                            .setPlanId(plan)
                            .build());
            admin.print(r, () -> {
                r.getTagsDeletedList()
                        .forEach(t -> System.out.println("deleted tag " + t.getRepository() + ":" + t.getTag()));
                r.getManifestsDeletedList()
                        .forEach(
                                m -> System.out.println("deleted manifest " + m.getRepository() + "@" + m.getDigest()));
                r.getSkippedList().forEach(x -> System.out.println("skipped " + x));
                System.out.println(r.getSummary());
            });
            return 0;
        }
    }

    static void printRules(List<ImmutabilityRule> rules) {
        List<List<String>> rows = new ArrayList<>();
        rules.forEach(r -> rows.add(
                List.of(r.getId(), r.getRepositories(), r.getTags(), AdminCommand.time(r.getCreatedEpochMillis()))));
        AdminCommand.table(System.out, List.of("ID", "REPOSITORIES", "TAGS", "CREATED"), rows);
    }

    static final class Add extends AdminCommand.Leaf {
        static final Option REPOSITORIES = Option.value(
                        "GLOB", "Repositories: team-a/**, team-a/*, library/ubuntu.", "--repositories")
                .required();
        static final Option TAGS = Option.value(
                        "REGEX",
                        "Tags: a regular expression (RE2 syntax) matching the whole "
                                + "tag, e.g. 'v\\d+\\.\\d+\\.\\d+'.",
                        "--tags")
                .required();

        private final String repositories;
        private final String tags;

        Add(Args args) {
            super(args);
            repositories = args.value(REPOSITORIES);
            tags = args.value(TAGS);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            ImmutabilityRule r = s.call()
                    .addImmutabilityRule(AddImmutabilityRuleRequest.newBuilder()
                            .setRepositories(repositories)
                            .setTags(tags)
                            .build());
            admin.print(r, () -> printRules(List.of(r)));
            return 0;
        }
    }

    static final class ListRules extends AdminCommand.Leaf {
        ListRules(Args args) {
            super(args);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call().listImmutabilityRules(ListImmutabilityRulesRequest.getDefaultInstance());
            admin.print(r, () -> printRules(r.getRulesList()));
            return 0;
        }
    }

    static final class DeleteRule extends AdminCommand.Leaf {
        static final Positional ID = Positional.of("ID");

        private final String id;

        DeleteRule(Args args) {
            super(args);
            id = args.value(ID);
        }

        @Override
        int work(AdminCommand.Session s) throws Exception {
            var r = s.call()
                    .deleteImmutabilityRule(
                            DeleteImmutabilityRuleRequest.newBuilder().setId(id).build());
            admin.print(r, () -> System.out.println("deleted immutability rule " + id));
            return 0;
        }
    }
}
