package io.berth.core.retention;

import io.berth.core.config.Durations;
import io.berth.core.config.KnownKeys;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.TagRegex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A retention policy ({@code docs/admin-api.md}): for the repositories matching one of
 * {@code repositories}, a tag is kept when any rule keeps it; tags matching
 * {@code excludeTagsMatching} take part in no rule; {@code untagged} says what happens to manifests no
 * tag points at, {@code referrers} what happens to the referrers of a deleted manifest.
 *
 * <p>The map form ({@link #fromMap}, {@link #toMap}) is the policy file's YAML and the stored JSON.
 */
public record RetentionPolicy(
        String name,
        List<String> repositories,
        List<Rule> rules,
        String excludeTagsMatching,
        Mode untagged,
        Mode referrers,
        String schedule) {

    /** Keep or delete. */
    public enum Mode {
        KEEP,
        DELETE
    }

    /** One way of keeping tags. */
    public sealed interface Rule {
        /** As written in a policy file: {@code keep-last-pushed: 5}. */
        String describe();
    }

    /** The {@code count} most recently pushed tags. */
    public record KeepLastPushed(int count) implements Rule {
        public String describe() {
            return "keep-last-pushed: " + count;
        }
    }

    /** The {@code count} most recently pulled tags (tags never pulled do not count). */
    public record KeepLastPulled(int count) implements Rule {
        public String describe() {
            return "keep-last-pulled: " + count;
        }
    }

    /** Tags pushed within {@code within} of now. */
    public record KeepPushedWithin(Duration within, String text) implements Rule {
        public String describe() {
            return "keep-pushed-within: " + text;
        }
    }

    /** Tags pulled within {@code within} of now. */
    public record KeepPulledWithin(Duration within, String text) implements Rule {
        public String describe() {
            return "keep-pulled-within: " + text;
        }
    }

    /** Tags whose whole name matches {@code regex}. */
    public record KeepTagsMatching(String regex) implements Rule {
        public String describe() {
            return "keep-tags-matching: " + regex;
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
    private static final List<String> KEYS =
            List.of("name", "repositories", "rules", "exclude-tags-matching", "untagged", "referrers", "schedule");
    private static final List<String> RULES = List.of(
            "keep-last-pushed", "keep-last-pulled", "keep-pushed-within", "keep-pulled-within", "keep-tags-matching");

    public RetentionPolicy {
        repositories = List.copyOf(repositories);
        rules = List.copyOf(rules);
        excludeTagsMatching = excludeTagsMatching == null ? "" : excludeTagsMatching;
        schedule = schedule == null ? "" : schedule;
    }

    /** Reads and checks a policy; every problem is one {@link ErrorCode#INVALID_ARGUMENT} naming the key. */
    public static RetentionPolicy fromMap(Map<?, ?> map) {
        return read(map, true);
    }

    /**
     * Reads a stored policy. Its globs and expressions were checked when it was put, perhaps by an
     * earlier version with other rules (expressions were Java's then): they are read as they are, and
     * {@link #regexes} says at evaluation whether one no longer compiles — a listing of policies must
     * not fail because of one.
     */
    public static RetentionPolicy stored(Map<?, ?> map) {
        return read(map, false);
    }

    private static RetentionPolicy read(Map<?, ?> map, boolean strict) {
        KnownKeys.firstUnknown(map.keySet(), KEYS).ifPresent(k -> {
            throw invalid(k, KnownKeys.refusal(k, KEYS, "policy key"));
        });
        String name = string(map.get("name"));
        if (!NAME.matcher(name).matches()) {
            throw invalid(
                    "name",
                    "'" + name + "' must be 1-128 of a-z, 0-9, '.', '_', '-', starting with a letter " + "or digit");
        }
        List<String> repositories = new ArrayList<>();
        Object repos = map.get("repositories");
        if (repos instanceof String one) {
            repositories.add(one);
        } else if (repos instanceof List<?> list) {
            list.forEach(r -> repositories.add(String.valueOf(r)));
        }
        if (repositories.isEmpty()) {
            throw invalid("repositories", "must list at least one repository glob (e.g. 'team-a/**')");
        }
        for (String r : repositories) {
            try {
                if (strict) {
                    RepositoryGlob.of(r);
                }
            } catch (IllegalArgumentException e) {
                throw invalid("repositories", e.getMessage());
            }
        }
        if (!(map.get("rules") instanceof List<?> ruleList) || ruleList.isEmpty()) {
            throw invalid(
                    "rules",
                    "must list at least one rule (keep-last-pushed, keep-last-pulled, "
                            + "keep-pushed-within, keep-pulled-within, keep-tags-matching): a policy without rules would "
                            + "delete every tag");
        }
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < ruleList.size(); i++) {
            rules.add(rule("rules[" + i + "]", ruleList.get(i), strict));
        }
        String exclude = string(map.get("exclude-tags-matching"));
        if (!exclude.isEmpty() && strict) {
            regex("exclude-tags-matching", exclude);
        }
        Mode untagged = mode("untagged", map.get("untagged"), Mode.KEEP);
        Mode referrers = mode("referrers", map.get("referrers"), Mode.DELETE);
        String schedule = string(map.get("schedule"));
        if (!schedule.isEmpty()) {
            try {
                Cron.parse(schedule);
            } catch (IllegalArgumentException e) {
                throw invalid("schedule", "'" + schedule + "' is not a cron expression: " + e.getMessage());
            }
        }
        return new RetentionPolicy(name, repositories, rules, exclude, untagged, referrers, schedule);
    }

    private static Rule rule(String key, Object item, boolean strict) {
        if (!(item instanceof Map<?, ?> m) || m.size() != 1) {
            throw invalid(key, "must be one 'rule: value' pair, e.g. 'keep-last-pushed: 10'");
        }
        Map.Entry<?, ?> e = m.entrySet().iterator().next();
        String kind = String.valueOf(e.getKey());
        String value = string(e.getValue());
        return switch (kind) {
            case "keep-last-pushed" -> new KeepLastPushed(count(key + "." + kind, value));
            case "keep-last-pulled" -> new KeepLastPulled(count(key + "." + kind, value));
            case "keep-pushed-within" -> new KeepPushedWithin(duration(key + "." + kind, value), value);
            case "keep-pulled-within" -> new KeepPulledWithin(duration(key + "." + kind, value), value);
            case "keep-tags-matching" -> {
                if (strict) {
                    regex(key + "." + kind, value);
                }
                yield new KeepTagsMatching(value);
            }
            default -> throw invalid(key, "'" + kind + "' " + KnownKeys.refusal(kind, RULES, "rule"));
        };
    }

    private static int count(String key, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= 1_000_000) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw invalid(key, "'" + value + "' must be a whole number from 1 to 1000000");
    }

    static Duration duration(String key, String value) {
        return Durations.parse(value, Duration.ofSeconds(1), Duration.ofDays(36_500))
                .orElseThrow(() -> invalid(
                        key,
                        "'" + value + "' is not a duration (a number and s, m, h, d or w: "
                                + "12h, 7d, 4w; at most 100 years)"));
    }

    private static TagRegex regex(String key, String value) {
        try {
            return TagRegex.of(value);
        } catch (IllegalArgumentException e) {
            throw invalid(key, "'" + value + "' " + e.getMessage());
        }
    }

    /** The policy's compiled expressions, {@code exclude-tags-matching} and each {@code keep-tags-matching}. */
    public record Regexes(Optional<TagRegex> exclude, Map<KeepTagsMatching, TagRegex> keep) {}

    /**
     * Compiles the policy's expressions.
     *
     * @throws RegistryException {@link ErrorCode#FAILED_PRECONDITION} when a stored one is not RE2
     *                           syntax: nothing is evaluated, so nothing is deleted, until the policy
     *                           is put again
     */
    public Regexes regexes() {
        try {
            Optional<TagRegex> ex = excludeTagsMatching.isEmpty()
                    ? Optional.empty()
                    : Optional.of(regex("exclude-tags-matching", excludeTagsMatching));
            Map<KeepTagsMatching, TagRegex> keep = new LinkedHashMap<>();
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i) instanceof KeepTagsMatching k) {
                    keep.put(k, regex("rules[" + i + "].keep-tags-matching", k.regex()));
                }
            }
            return new Regexes(ex, keep);
        } catch (RegistryException e) {
            throw new RegistryException(
                    ErrorCode.FAILED_PRECONDITION,
                    e.getMessage() + "; regular expressions are " + "RE2 syntax now: put the policy '" + name
                            + "' again with one",
                    Map.of("policy", name));
        }
    }

    private static Mode mode(String key, Object value, Mode dflt) {
        if (value == null) {
            return dflt;
        }
        return switch (String.valueOf(value).toLowerCase(Locale.ROOT)) {
            case "keep" -> Mode.KEEP;
            case "delete" -> Mode.DELETE;
            default -> throw invalid(key, "'" + value + "' must be keep or delete");
        };
    }

    private static String string(Object o) {
        return o == null ? "" : String.valueOf(o).trim();
    }

    private static RegistryException invalid(String key, String why) {
        return RegistryException.of(ErrorCode.INVALID_ARGUMENT, "retention policy: " + key + " " + why, "key", key);
    }

    /** The policy in its file form (also what is stored). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("repositories", repositories);
        List<Map<String, Object>> r = new ArrayList<>();
        for (Rule rule : rules) {
            String[] kv = rule.describe().split(": ", 2);
            r.add(Map.of(
                    kv[0],
                    rule instanceof KeepLastPushed p
                            ? (Object) p.count()
                            : rule instanceof KeepLastPulled p ? (Object) p.count() : kv[1]));
        }
        m.put("rules", r);
        if (!excludeTagsMatching.isEmpty()) {
            m.put("exclude-tags-matching", excludeTagsMatching);
        }
        m.put("untagged", untagged.name().toLowerCase(Locale.ROOT));
        m.put("referrers", referrers.name().toLowerCase(Locale.ROOT));
        if (!schedule.isEmpty()) {
            m.put("schedule", schedule);
        }
        return m;
    }

    public Optional<Cron> cron() {
        return schedule.isEmpty() ? Optional.empty() : Optional.of(Cron.parse(schedule));
    }
}
