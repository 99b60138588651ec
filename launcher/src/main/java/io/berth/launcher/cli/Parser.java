package io.berth.launcher.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a command line against a {@link Command} tree the way picocli 4.7 read Berth's (which
 * this parser replaced; the messages of its mistakes are kept word for word, see
 * {@code HelpGoldenTest}): options before or after positional parameters, {@code --name value},
 * {@code --name=value}, clustered short options ({@code -hV}, {@code -cFILE}), {@code --} ending
 * the options; a subcommand's name hands the rest of the line to it, whose inherited options
 * ({@link Option#inherited()}) may still be given. Each command's mistakes are found when its part
 * of the line has been read, the innermost command's first.
 */
final class Parser {
    /** A command line read: the commands named, from the root, and what each asked for. */
    record Parsed(List<Level> levels, Args args) {
        List<Command> path() {
            return levels.getLast().path;
        }
    }

    /** A usage mistake, in the command {@link #path} names. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient List<Command> path;
        private final transient Map<String, Option> options;
        private final boolean unmatched;

        UsageException(Level level, String message, boolean unmatched) {
            super(message);
            this.path = level.path;
            this.options = level.byName;
            this.unmatched = unmatched;
        }

        List<Command> path() {
            return path;
        }

        /** The options the command takes, by every name. */
        Map<String, Option> options() {
            return options;
        }

        /** Words were left over (or an option is unknown). */
        boolean unmatched() {
            return unmatched;
        }
    }

    /** How an option's value was written: the next word, glued to a short option, or after '='. */
    private enum LookBehind {
        SEPARATE,
        ATTACHED,
        ATTACHED_WITH_SEPARATOR
    }

    /** One command of the line, with what was given to it. */
    static final class Level {
        final List<Command> path;
        final Command command;
        final Map<String, Option> byName = new LinkedHashMap<>();
        final Map<Character, Option> posix = new HashMap<>();
        final List<Positional> positionals;
        final List<Object> required = new ArrayList<>();
        final Set<Option> given = new HashSet<>();
        final List<String> unmatched = new ArrayList<>();
        int firstUnmatched = Integer.MAX_VALUE;
        int position;
        boolean usage;
        boolean version;
        boolean endOfOptions;

        Level(List<Command> path) {
            this.path = List.copyOf(path);
            this.command = path.getLast();
            for (Option o : visibleOptions(path)) {
                for (String n : o.names()) {
                    byName.put(n, o);
                    if (n.length() == 2) {
                        posix.put(n.charAt(1), o);
                    }
                }
            }
            positionals = command.positionals();
            List<Object> declared = new ArrayList<>();
            for (Object o : command.declared()) {
                if (o instanceof Positional
                        || o instanceof Option option && option.isRequired() && option.defaultValue() == null) {
                    declared.add(o);
                }
            }
            // options count as index 0: a missing option is reported before a missing second parameter
            declared.sort(Comparator.comparingInt(o -> o instanceof Positional p ? positionals.indexOf(p) : 0));
            required.addAll(declared);
        }
    }

    private final Command root;
    private final String[] all;
    private final Deque<String> args = new ArrayDeque<>();
    private final List<Level> levels = new ArrayList<>();
    private final Map<Option, Object> values = new HashMap<>();
    private final Map<Positional, String> positionalValues = new HashMap<>();

    Parser(Command root, String[] args) {
        this.root = root;
        this.all = args.clone();
        for (String a : args) {
            this.args.addLast(a);
        }
    }

    /** The options a command takes: its own, then those its ancestors pass down. */
    static List<Option> visibleOptions(List<Command> path) {
        List<Option> out = new ArrayList<>(path.getLast().options());
        for (int i = path.size() - 2; i >= 0; i--) {
            for (Option o : path.get(i).options()) {
                if (o.isInherited() && !out.contains(o)) {
                    out.add(o);
                }
            }
        }
        return out;
    }

    static String qualifiedName(List<Command> path) {
        return String.join(" ", path.stream().map(Command::name).toList());
    }

    Parsed parse() throws UsageException {
        parse(List.of(root));
        return new Parsed(List.copyOf(levels), new Args(levels.getLast().path, values, positionalValues));
    }

    private void parse(List<Command> path) throws UsageException {
        Level level = new Level(path);
        levels.add(level);
        while (!args.isEmpty()) {
            if (level.endOfOptions) {
                remainderAsPositionals(level);
                break;
            }
            String arg = args.pop();
            if (arg.equals("--")) {
                level.endOfOptions = true;
                remainderAsPositionals(level);
                break;
            }
            Command sub = level.command.subcommand(arg);
            if (sub != null) {
                if (!level.usage && !level.version && !level.required.isEmpty()) {
                    throw missing(level, level.required);
                }
                List<Command> next = new ArrayList<>(path);
                next.add(sub);
                parse(next);
                break; // the rest was the subcommand's
            }
            LookBehind lookBehind = LookBehind.SEPARATE;
            int eq = arg.indexOf('=');
            if (eq > 0 && level.byName.containsKey(arg.substring(0, eq)) && !level.byName.containsKey(arg)) {
                args.push(arg.substring(eq + 1));
                arg = arg.substring(0, eq);
                lookBehind = LookBehind.ATTACHED_WITH_SEPARATOR;
            }
            Option option = level.byName.get(arg);
            if (option != null) {
                level.required.remove(option);
                apply(level, option, lookBehind);
            } else if (arg.length() > 2 && arg.startsWith("-")) {
                cluster(level, arg);
            } else {
                args.push(arg);
                positional(level);
            }
        }
        boolean help = false;
        for (Level l : levels.subList(0, levels.indexOf(level) + 1)) {
            help |= l.usage || l.version;
        }
        if (!help) {
            validate(level);
        }
    }

    /** Short options run together: {@code -hV}, {@code -cFILE}, {@code -c=FILE}. */
    private void cluster(Level level, String arg) throws UsageException {
        String prefix = arg.substring(0, 1);
        String cluster = arg.substring(1);
        boolean attached = true;
        while (true) {
            Option option = cluster.isEmpty() ? null : level.posix.get(cluster.charAt(0));
            if (option == null) {
                if (cluster.isEmpty()) {
                    return;
                }
                if (arg.endsWith(cluster)) {
                    args.push(attached ? prefix + cluster : cluster);
                    if (args.peek().equals(arg)) {
                        positional(level);
                        return;
                    }
                    args.push(args.pop() + " (while processing option: '" + arg + "')");
                    unmatched(level);
                } else {
                    args.push(cluster);
                    positional(level);
                }
                return;
            }
            level.required.remove(option);
            cluster = cluster.substring(1);
            attached = !cluster.isEmpty();
            LookBehind lookBehind = attached ? LookBehind.ATTACHED : LookBehind.SEPARATE;
            if (cluster.startsWith("=")) {
                lookBehind = LookBehind.ATTACHED_WITH_SEPARATOR;
                cluster = cluster.substring(1);
            }
            if (!cluster.isEmpty()) {
                args.push(cluster);
            }
            int before = args.size();
            apply(level, option, lookBehind);
            if (cluster.isEmpty() || args.isEmpty() || args.size() < before) {
                return;
            }
            cluster = args.pop();
        }
    }

    private void apply(Level level, Option option, LookBehind lookBehind) throws UsageException {
        level.usage |= option.kind() == Option.Kind.USAGE_HELP;
        level.version |= option.kind() == Option.Kind.VERSION_HELP;
        if (option.isSwitch()) {
            boolean on = true;
            if (lookBehind == LookBehind.ATTACHED_WITH_SEPARATOR) {
                String value = args.peek();
                if (!canBeValue(level, value)) {
                    throw expected(level, option, value);
                }
                args.pop();
                if (!value.isEmpty() && !value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                    throw new UsageException(
                            level,
                            "Invalid value for " + describe(option, false) + ": '" + value + "' is not a boolean",
                            false);
                }
                on = value.equalsIgnoreCase("true");
            }
            given(level, option);
            values.put(option, on);
            return;
        }
        if (args.isEmpty()) {
            throw new UsageException(level, "Missing required parameter for " + describe(option, true), false);
        }
        String value = args.peek();
        // after '=' the value is whatever follows it, even "-h…" or an option's name (a token may
        // begin with '-'; berth admin took such values before this parser, as GNU getopt does)
        if (lookBehind != LookBehind.ATTACHED_WITH_SEPARATOR && !canBeValue(level, value)) {
            throw expected(level, option, value);
        }
        args.pop();
        if (option.kind() == Option.Kind.LIST) {
            @SuppressWarnings("unchecked")
            List<String> list = (List<String>) values.computeIfAbsent(option, o -> new ArrayList<String>());
            for (String v : split(value, option.split())) {
                check(level, option, v);
                list.add(v);
            }
            level.given.add(option);
            return;
        }
        check(level, option, value);
        given(level, option);
        values.put(option, value);
    }

    private void given(Level level, Option option) throws UsageException {
        if (!level.given.add(option)) {
            throw new UsageException(level, describe(option, true) + " should be specified only once", false);
        }
    }

    /** The value reads as the option's type. */
    private static void check(Level level, Option option, String value) throws UsageException {
        switch (option.type()) {
            case LONG -> {
                try {
                    Long.valueOf(value);
                } catch (NumberFormatException e) {
                    throw new UsageException(
                            level,
                            "Invalid value for " + describe(option, false) + ": '" + value + "' is not a long",
                            false);
                }
            }
            case PATH -> {
                try {
                    Path.of(value);
                } catch (InvalidPathException e) {
                    throw new UsageException(
                            level,
                            "Invalid value for " + describe(option, false) + ": cannot convert '" + value
                                    + "' to Path (" + e + ")",
                            false);
                }
            }
            case TEXT -> {}
        }
    }

    /**
     * A list option's value split at {@code regex}, except inside double quotes: {@code a,"b,c"}
     * gives {@code a} and {@code "b,c"} (quotes kept).
     */
    static List<String> split(String value, String regex) {
        Deque<String> quoted = new ArrayDeque<>();
        StringBuilder splittable = new StringBuilder();
        StringBuilder inQuotes = new StringBuilder();
        StringBuilder current = splittable;
        boolean escaping = false;
        boolean inQuote = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                escaping = !escaping;
            } else if (c == '"' && !escaping) {
                inQuote = !inQuote;
                current = inQuote ? inQuotes : splittable;
                if (inQuote) {
                    splittable.append(c);
                    continue;
                }
                quoted.add(inQuotes.toString());
                inQuotes.setLength(0);
            } else {
                escaping = false;
            }
            current.append(c);
        }
        if (!inQuotes.isEmpty()) {
            quoted.add(inQuotes.toString());
        }
        List<String> out = new ArrayList<>();
        // -1: empty items are kept ("pull," is "pull" and ""), for the server to refuse as it refused
        // them from berth admin before this parser; dropping them would grant what was not asked
        for (String part : splittable.toString().split(regex, -1)) {
            out.add(restoreQuoted(part, quoted));
        }
        return quoted.isEmpty() ? out : List.of(value.split(regex, -1));
    }

    private static String restoreQuoted(String part, Deque<String> quoted) {
        StringBuilder out = new StringBuilder();
        boolean escaping = false;
        boolean inQuote = false;
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            if (c == '\\') {
                escaping = !escaping;
            } else if (c == '"') {
                if (!escaping) {
                    inQuote = !inQuote;
                    if (!inQuote && !quoted.isEmpty()) {
                        out.append(quoted.pop());
                    }
                }
            } else {
                escaping = false;
            }
            out.append(c);
        }
        return out.toString();
    }

    private void remainderAsPositionals(Level level) throws UsageException {
        while (!args.isEmpty()) {
            positional(level);
        }
    }

    private void positional(Level level) throws UsageException {
        String arg = args.peek();
        if (!level.endOfOptions && resemblesOption(level, arg)) {
            unmatched(level);
            return;
        }
        if (level.position >= level.positionals.size()) {
            unmatched(level);
            return;
        }
        Positional p = level.positionals.get(level.position);
        if (!level.endOfOptions && !canBeValue(level, arg)) {
            throw new UsageException(
                    level, "Expected parameter for " + describe(p) + " but found '" + arg + "'", false);
        }
        args.pop();
        positionalValues.put(p, arg);
        level.required.remove(p);
        level.position++;
    }

    private void unmatched(Level level) {
        level.firstUnmatched = Math.min(level.firstUnmatched, all.length - args.size());
        level.unmatched.add(args.pop());
    }

    /** The word can be an option's value: not {@code --}, a subcommand or an option of this command. */
    private static boolean canBeValue(Level level, String word) {
        return !word.equals("--") && level.command.subcommand(word) == null && !isOption(level, word);
    }

    private static boolean isOption(Level level, String word) {
        if (level.byName.containsKey(word)) {
            return true;
        }
        int eq = word.indexOf('=');
        if (eq > 0 && level.byName.containsKey(word.substring(0, eq))) {
            return true;
        }
        return word.length() > 2 && word.startsWith("-") && level.posix.containsKey(word.charAt(1));
    }

    /**
     * A word that looks like an option rather than a value: begins with '-' (more than that alone)
     * and is not a number. Kept as picocli put it: a prefix in common with nine in ten of the names.
     */
    static boolean resemblesOption(Level level, String word) {
        if (word.length() <= 1) {
            return false;
        }
        if (isNumber(word)) {
            return false;
        }
        if (level.byName.isEmpty()) {
            return word.startsWith("-");
        }
        int count = 0;
        for (String name : level.byName.keySet()) {
            for (int i = 0; i < word.length() && i < name.length() && word.charAt(i) == name.charAt(i); i++) {
                count++;
            }
        }
        return count > 0 && count * 10 >= level.byName.size() * 9;
    }

    private static boolean isNumber(String word) {
        try {
            Long.decode(word);
            return true;
        } catch (NumberFormatException e) {
            // not a whole number
        }
        try {
            Double.parseDouble(word);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private void validate(Level level) throws UsageException {
        for (Object missing : level.required) {
            if (missing instanceof Option) {
                throw missing(level, level.required);
            }
            List<String> labels = new ArrayList<>();
            for (Positional p :
                    level.positionals.subList(level.positionals.indexOf(missing), level.positionals.size())) {
                labels.add("'" + p.label() + "'");
            }
            throw new UsageException(
                    level,
                    "Missing required parameter" + (labels.size() > 1 ? "s" : "") + ": " + String.join(", ", labels),
                    false);
        }
        if (!level.unmatched.isEmpty()) {
            List<String> u = level.unmatched;
            String plural = u.size() == 1 ? "" : "s";
            String what = resemblesOption(level, u.getFirst())
                    ? "Unknown option" + plural
                    : "Unmatched argument" + plural + (u.size() == 1 ? " at" : " from") + " index "
                            + level.firstUnmatched;
            throw new UsageException(level, what + ": " + quote(u), true);
        }
    }

    private static String quote(List<String> words) {
        List<String> out = new ArrayList<>();
        for (String w : words) {
            int at = w.indexOf(" (while processing option:");
            out.add(at < 0 ? "'" + w + "'" : "'" + w.substring(0, at) + "'" + w.substring(at));
        }
        return String.join(", ", out);
    }

    private static UsageException missing(Level level, List<Object> required) {
        long options = required.stream().filter(Option.class::isInstance).count();
        long params = required.size() - options;
        String types = options == 0
                ? params == 1 ? "parameter" : "parameters"
                : params == 0 ? options == 1 ? "option" : "options" : "options and parameters";
        List<String> names = new ArrayList<>();
        for (Object r : required) {
            names.add("'"
                    + (r instanceof Option o
                            ? o.longestName() + (o.isSwitch() ? "" : "=" + o.label())
                            : ((Positional) r).label())
                    + "'");
        }
        return new UsageException(level, "Missing required " + types + ": " + String.join(", ", names), false);
    }

    private static UsageException expected(Level level, Option option, String found) {
        return new UsageException(
                level, "Expected parameter for " + describe(option, false) + " but found '" + found + "'", false);
    }

    /** {@code option '--sort'}, with its label when {@code withLabel} and it takes a value. */
    private static String describe(Option option, boolean withLabel) {
        return "option '" + option.longestName() + "'"
                + (withLabel && !option.isSwitch() ? " (" + option.label() + ")" : "");
    }

    private String describe(Positional p) {
        return "positional parameter at index " + levels.getLast().positionals.indexOf(p) + " (" + p.label() + ")";
    }

    /**
     * A switch given a value — {@code --regex 'v1.*'} or {@code --regex=v1.*} — reads as a word left
     * over or a value that is no boolean: say what the switch is instead.
     */
    static Optional<String> switchGivenAValue(UsageException e, String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            Option option = name.startsWith("--") ? e.options().get(name) : null;
            if (option == null || option.kind() != Option.Kind.SWITCH) {
                continue;
            }
            // followed by a word while a word is left over: that word was meant as the switch's value
            String value = arg.contains("=")
                    ? arg.substring(arg.indexOf('=') + 1)
                    : i + 1 < args.length && !args[i + 1].startsWith("-") && e.unmatched() ? args[i + 1] : null;
            if (value != null) {
                return Optional.of(name + " is a switch and takes no value, but '" + value + "' was given. " + name
                        + ": " + option.description());
            }
        }
        return Optional.empty();
    }
}
