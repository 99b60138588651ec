package io.berth.core.auth;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** What a caller may do to a repository: the actions of policies, robot accounts and token scopes. */
public enum Action {
    PULL,
    PUSH,
    DELETE,
    ADMIN;

    /** The name in policies and token scopes: {@code pull}, {@code push}, {@code delete}, {@code admin}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code pull}, {@code push}, {@code delete}, {@code admin}; empty for anything else. */
    public static Optional<Action> parse(String text) {
        for (Action a : values()) {
            if (a.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /**
     * A list of action names as policies write them; {@code *} is every action.
     *
     * @throws IllegalArgumentException naming the first unknown action
     */
    public static Set<Action> parseAll(Iterable<String> names) {
        EnumSet<Action> out = EnumSet.noneOf(Action.class);
        for (String n : names) {
            if (n.trim().equals("*")) {
                out.addAll(EnumSet.allOf(Action.class));
                continue;
            }
            out.add(parse(n).orElseThrow(() ->
                    new IllegalArgumentException("unknown action '" + n + "' (pull, push, delete, admin or *)")));
        }
        return out;
    }

    /** {@code pull,push} in this enum's order. */
    public static String join(Set<Action> actions) {
        return actions.stream().sorted().map(Action::wire).collect(Collectors.joining(","));
    }
}
