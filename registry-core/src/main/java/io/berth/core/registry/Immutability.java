package io.berth.core.registry;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.metadata.ImmutabilityRuleRecord;
import io.berth.core.metadata.MetadataReads;
import io.berth.core.metadata.MetadataStore;
import io.berth.core.model.RepositoryGlob;
import io.berth.core.model.RepositoryName;
import io.berth.core.model.TagRegex;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Immutability rules: a tag of a repository matching {@code repositories} (a glob) whose name
 * matches {@code tags} (a regular expression in RE2 syntax, the whole name) can be pushed once and
 * never moved or deleted afterwards — not through {@code /v2}, the admin API, retention or garbage
 * collection. Pushing the same manifest to it again is no change and is allowed.
 */
public final class Immutability {
    private final MetadataStore metadata;

    Immutability(MetadataStore metadata) {
        this.metadata = metadata;
    }

    /** A rule as callers see it. */
    public record Rule(String id, String repositories, String tags, long createdAt) {
        public String describe() {
            return "immutability rule " + id + " (repositories '" + repositories + "', tags '" + tags + "'"
                    + (pattern().isEmpty()
                            ? ", which is not RE2 syntax: it protects every tag of those repositories "
                                    + "until it is replaced"
                            : "")
                    + ")";
        }

        /**
         * Its compiled tags pattern; empty for a rule stored before patterns were RE2 that RE2 refuses
         * (look-around, back-references) — such a rule protects every tag: it fails closed.
         */
        Optional<TagRegex> pattern() {
            try {
                return Optional.of(TagRegex.of(tags));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    private static Rule rule(ImmutabilityRuleRecord r) {
        return new Rule(r.id(), r.repositories(), r.tags(), r.createdAt());
    }

    public Rule add(String repositories, String tags) {
        validate(repositories, tags);
        Rule rule = metadata.inTransaction(tx -> {
            ImmutabilityRuleRecord r =
                    new ImmutabilityRuleRecord(UUID.randomUUID().toString(), repositories, tags, tx.now());
            tx.immutability().insert(r);
            return rule(r);
        });
        return rule;
    }

    static void validate(String repositories, String tags) {
        try {
            RepositoryGlob.of(repositories);
        } catch (IllegalArgumentException e) {
            throw RegistryException.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "repositories: " + e.getMessage(),
                    "repositories",
                    String.valueOf(repositories));
        }
        TagRegex.argument("tags", tags);
    }

    public List<Rule> list() {
        return metadata.immutability().rules().stream().map(Immutability::rule).toList();
    }

    public void delete(String id) {
        if (!metadata.<Boolean>inTransaction(tx -> tx.immutability().delete(id))) {
            throw RegistryException.of(ErrorCode.NOT_FOUND, "no immutability rule " + id, "id", id);
        }
    }

    /** The first rule protecting the tag, if any. */
    public static Optional<Rule> protecting(MetadataReads reads, RepositoryName repository, String tag) {
        return checker(reads).protecting(repository, tag);
    }

    /** The rules as they are now, compiled once: for checking many tags. */
    public static Checker checker(MetadataReads reads) {
        return new Checker(
                reads.immutability().rules().stream().map(Immutability::rule).toList());
    }

    /** Compiled rules. */
    public static final class Checker {
        private final List<Rule> rules;
        private final List<RepositoryGlob> globs;
        private final List<Optional<TagRegex>> patterns;

        Checker(List<Rule> rules) {
            this.rules = rules;
            this.globs = rules.stream()
                    .map(r -> RepositoryGlob.stored(r.repositories()))
                    .toList();
            this.patterns = rules.stream().map(Rule::pattern).toList();
        }

        public Optional<Rule> protecting(RepositoryName repository, String tag) {
            for (int i = 0; i < rules.size(); i++) {
                if (globs.get(i).matches(repository.value())
                        && patterns.get(i).map(p -> p.matches(tag)).orElse(true)) {
                    return Optional.of(rules.get(i));
                }
            }
            return Optional.empty();
        }
    }

    /** Throws {@link ErrorCode#IMMUTABLE} when a rule protects the (existing) tag from {@code what}. */
    static void check(MetadataReads reads, RepositoryName repository, String tag, String what) {
        Optional<Rule> rule = protecting(reads, repository, tag);
        if (rule.isPresent()) {
            throw new RegistryException(
                    ErrorCode.IMMUTABLE,
                    "tag " + repository + ":" + tag + " is immutable ("
                            + rule.get().describe() + "): it cannot be " + what + "; push a new tag instead",
                    Map.of("tag", tag, "rule", rule.get().id()));
        }
    }
}
