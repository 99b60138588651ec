package io.berth.launcher.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** What a command line gave: the value of each option and positional parameter, asked for by its constant. */
public final class Args {
    private final List<Command> path;
    private final Map<Option, Object> options;
    private final Map<Positional, String> positionals;

    Args(List<Command> path, Map<Option, Object> options, Map<Positional, String> positionals) {
        this.path = List.copyOf(path);
        this.options = new HashMap<>(options);
        this.positionals = new HashMap<>(positionals);
    }

    /** The value given, else the default; null when neither. */
    public String value(Option option) {
        Object v = options.get(option);
        return v instanceof String s ? s : option.defaultValue();
    }

    /** Whether a switch was given. */
    public boolean isSet(Option option) {
        return Boolean.TRUE.equals(options.get(option));
    }

    /** Every value of a list option, in the order given; empty when not given. */
    @SuppressWarnings("unchecked")
    public List<String> values(Option option) {
        Object v = options.get(option);
        return v instanceof List<?> l ? List.copyOf((List<String>) l) : List.of();
    }

    /** The value as a path; null when neither given nor defaulted. */
    public Path path(Option option) {
        String v = value(option);
        return v == null ? null : Path.of(v);
    }

    /** The value as a number; null when neither given nor defaulted. */
    public Long number(Option option) {
        String v = value(option);
        return v == null ? null : Long.valueOf(v);
    }

    public String value(Positional positional) {
        return positionals.get(positional);
    }

    /**
     * What the command receives, for tests and diagnostics: every option it takes by its longest
     * name (defaults included, as the command sees them) and every parameter by its label.
     */
    public SortedMap<String, String> describe() {
        SortedMap<String, String> out = new TreeMap<>();
        for (Option o : Parser.visibleOptions(path)) {
            String shown = switch (o.kind()) {
                case USAGE_HELP, VERSION_HELP -> null;
                case SWITCH -> Boolean.toString(isSet(o));
                case LIST -> "[" + String.join(",", values(o)) + "]";
                case VALUE ->
                    switch (o.type()) {
                        case PATH -> String.valueOf(path(o));
                        case LONG -> String.valueOf(number(o));
                        case TEXT -> String.valueOf(value(o));
                    };
            };
            if (shown != null) {
                out.put(o.longestName(), shown);
            }
        }
        for (Positional p : path.getLast().positionals()) {
            out.put(p.label(), String.valueOf(value(p)));
        }
        return out;
    }

    /** The command as help names it: {@code berth admin tags list}. */
    public String command() {
        return Parser.qualifiedName(path);
    }

    Command.Action commandAction() {
        return path.getLast().action();
    }
}
