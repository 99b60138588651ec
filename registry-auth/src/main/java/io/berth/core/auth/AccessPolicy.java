package io.berth.core.auth;

import io.berth.core.config.YamlSection;
import io.berth.core.model.RepositoryGlob;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Who may do what to which repositories ({@code auth.policy}): named groups of principals, and rules
 * granting actions on repository globs to subjects. Rules only grant; what no rule grants is denied.
 * Subjects: a user name ({@code alice} or {@code user:alice}), {@code robot:<name>},
 * {@code group:<name>}, {@code anonymous} (callers without credentials), {@code authenticated} (any
 * user with valid credentials), {@code *} (everyone). The {@code admin} action of the admin API is
 * checked on the repository {@code *}: a rule for {@code "*"} or {@code "**"} grants it.
 *
 * <p>Robot accounts have a ceiling: only rules that name them ({@code robot:<name>}, or a group
 * listing {@code robot:<name>}) apply to them, never {@code authenticated} or {@code *} — a robot
 * made to pull {@code ci/**} must not inherit what every user may do.
 */
public final class AccessPolicy {
    /** The repository name the {@code admin} action is checked on. */
    public static final String EVERYTHING = "*";

    private record Rule(List<RepositoryGlob> repositories, List<String> subjects, Set<Action> actions) {}

    private final Map<String, Set<String>> groups;
    private final List<Rule> rules;

    private AccessPolicy(Map<String, Set<String>> groups, List<Rule> rules) {
        this.groups = groups;
        this.rules = rules;
    }

    /** Without {@code auth.policy}: every authenticated user (not robot) may pull, push and delete everywhere. */
    public static AccessPolicy authenticatedMayWrite() {
        return new AccessPolicy(
                Map.of(),
                List.of(new Rule(
                        List.of(RepositoryGlob.of("**")),
                        List.of("authenticated"),
                        EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE))));
    }

    /** Nothing granted: what is in force while the policy file cannot be read (fail closed). */
    public static AccessPolicy grantsNothing() {
        return new AccessPolicy(Map.of(), List.of());
    }

    /**
     * Reads a policy file, refusing any mistake.
     *
     * @throws IllegalArgumentException one line naming the file, the key and what is wrong
     */
    public static AccessPolicy load(Path file) {
        WatchedFile.Loaded<AccessPolicy> loaded = read(file);
        if (!loaded.leftOut().isEmpty()) {
            throw new IllegalArgumentException(loaded.leftOut().get(0));
        }
        return loaded.value();
    }

    /**
     * Reads a policy file, leaving out each group and rule it cannot use (named, saying why). Rules
     * only grant, so leaving one out grants less: a rule naming a group that was left out goes too.
     *
     * @throws IllegalArgumentException when the file cannot be read, is not YAML, or its
     *                                  {@code groups} or {@code rules} are not a mapping and a list
     */
    public static WatchedFile.Loaded<AccessPolicy> read(Path file) {
        YamlSection root = YamlSection.load(file, Map.of());
        List<String> leftOut = new ArrayList<>();
        Map<String, Set<String>> groups = new LinkedHashMap<>();
        YamlSection g = root.section("groups");
        for (String name : root.stringMapKeys("groups")) {
            try {
                groups.put(name, Set.copyOf(g.strings(name)));
            } catch (IllegalArgumentException e) {
                leftOut.add(e.getMessage() + " (group left out)");
            }
        }
        List<Rule> rules = new ArrayList<>();
        for (Supplier<YamlSection> each : root.eachSection("rules")) {
            try {
                rules.add(rule(each.get(), groups));
            } catch (IllegalArgumentException e) {
                leftOut.add(e.getMessage() + " (rule left out)");
            }
        }
        return new WatchedFile.Loaded<>(new AccessPolicy(Map.copyOf(groups), List.copyOf(rules)), leftOut);
    }

    private static Rule rule(YamlSection r, Map<String, Set<String>> groups) {
        List<String> repositories = r.strings("repositories");
        if (repositories.isEmpty()) {
            throw r.bad("repositories", "must list at least one repository glob (\"**\" is every repository)");
        }
        List<String> subjects = r.strings("subjects");
        if (subjects.isEmpty()) {
            throw r.bad(
                    "subjects",
                    "must list at least one subject (a user, group:<name>, robot:<name>, "
                            + "anonymous or authenticated)");
        }
        for (String s : subjects) {
            if (s.startsWith("group:") && !groups.containsKey(s.substring(6))) {
                throw r.bad("subjects", "names the group '" + s.substring(6) + "', which groups does not define");
            }
        }
        Set<Action> actions;
        try {
            actions = Action.parseAll(r.strings("actions"));
        } catch (IllegalArgumentException e) {
            throw r.bad("actions", e.getMessage());
        }
        if (actions.isEmpty()) {
            throw r.bad("actions", "must list at least one action (pull, push, delete, admin)");
        }
        List<RepositoryGlob> globs = new ArrayList<>();
        for (String glob : repositories) {
            try {
                globs.add(RepositoryGlob.of(glob));
            } catch (IllegalArgumentException e) {
                throw r.bad("repositories", e.getMessage());
            }
        }
        return new Rule(List.copyOf(globs), List.copyOf(subjects), actions);
    }

    /** Every action the rules grant {@code principal} on {@code repository}. */
    public Set<Action> granted(Principal principal, String repository) {
        EnumSet<Action> out = EnumSet.noneOf(Action.class);
        for (Rule rule : rules) {
            if (!out.containsAll(rule.actions())
                    && rule.subjects().stream().anyMatch(s -> names(s, principal))
                    && rule.repositories().stream().anyMatch(glob -> glob.matches(repository))) {
                out.addAll(rule.actions());
            }
        }
        return out;
    }

    private boolean names(String subject, Principal p) {
        return switch (subject) {
            case "anonymous" -> p.anonymous();
            // robots only by name: their own grants are their ceiling
            case "authenticated" -> p.kind() == Principal.Kind.USER;
            case "*" -> p.kind() != Principal.Kind.ROBOT;
            default -> {
                if (p.anonymous()) {
                    yield false;
                }
                if (subject.startsWith("group:")) {
                    yield groups.getOrDefault(subject.substring(6), Set.of()).contains(p.subject());
                }
                if (subject.startsWith("user:")) {
                    yield p.kind() == Principal.Kind.USER
                            && subject.substring(5).equals(p.name());
                }
                yield subject.equals(p.subject());
            }
        };
    }
}
