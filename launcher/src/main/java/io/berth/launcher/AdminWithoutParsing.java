package io.berth.launcher;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth admin …} read without picocli: the commands' own annotations name the subcommands,
 * options and parameters, and a plain command line — subcommand words, {@code --name value},
 * {@code --name=value}, switches, positional parameters — is read straight into the command objects.
 * picocli is compiled for Java 5, so its classes are never in the JDK's AOT cache; loading and
 * verifying them and building the admin tree's model took most of a call's start (docs/benchmarks.md).
 * Anything else — help, a mistake, an option given twice, a value that looks like an option — is
 * left to picocli ({@link #parse} is empty), which then says what it says today;
 * {@code AdminWithoutParsingTest} checks that both read every command line alike.
 */
final class AdminWithoutParsing {
    /** picocli's marker for "no default value" in {@link Option#defaultValue()}. */
    private static final String NO_DEFAULT = "__no_default_value__";

    private AdminWithoutParsing() {
    }

    /** A command line read: the admin command, the leaf to run, and the leaf's name as help spells it. */
    record Parsed(AdminCommand admin, AdminCommand.Leaf leaf, String name) {
    }

    /** Runs {@code args} when they read plainly; empty when picocli is to read them. */
    static Optional<Integer> run(String[] args) {
        Optional<Parsed> parsed = parse(args);
        if (parsed.isEmpty()) {
            return Optional.empty();
        }
        Parsed p = parsed.get();
        p.leaf().admin = p.admin();
        try {
            return Optional.of(p.leaf().execute());
        } catch (AdminCommand.UsageError e) {
            return Optional.of(Main.usageError(p.name(), e.getMessage()));
        }
    }

    /** One option or parameter: the object it belongs to and its field. */
    private record Target(Object owner, Field field, boolean required, String defaultValue, String split) {
    }

    static Optional<Parsed> parse(String[] args) {
        try {
            return Optional.ofNullable(read(args));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty(); // whatever is unusual: picocli reads it
        }
    }

    private static Parsed read(String[] args) throws ReflectiveOperationException {
        if (args.length < 2 || !args[0].equals("admin")) {
            return null;
        }
        AdminCommand admin = new AdminCommand();
        Map<String, Target> options = new HashMap<>();
        List<Target> declared = new ArrayList<>();
        collect(admin, options, new ArrayList<>(), declared);
        Object current = admin;
        List<Target> positional = new ArrayList<>();
        StringBuilder name = new StringBuilder("berth admin");
        Set<Target> given = new HashSet<>();
        int next = 0;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-")) {
                String key = a;
                String inline = null;
                if (a.startsWith("--") && a.contains("=")) {
                    key = a.substring(0, a.indexOf('='));
                    inline = a.substring(a.indexOf('=') + 1);
                }
                Target t = options.get(key);
                if (t == null || !given.add(t)) {
                    return null; // unknown (help, version, a mistake) or given twice
                }
                if (t.field().getType() == boolean.class) {
                    if (inline != null) {
                        return null;
                    }
                    t.field().setBoolean(t.owner(), true);
                    continue;
                }
                String value = inline;
                if (value == null) {
                    if (i + 1 >= args.length || args[i + 1].startsWith("-")) {
                        return null;
                    }
                    value = args[++i];
                }
                set(t, value);
            } else if (current instanceof AdminCommand.Leaf) {
                if (next >= positional.size()) {
                    return null; // more parameters than the command takes
                }
                Target t = positional.get(next++);
                given.add(t);
                set(t, a);
            } else {
                Command group = current.getClass().getAnnotation(Command.class);
                Class<?> sub = null;
                for (Class<?> c : group.subcommands()) {
                    if (c.getAnnotation(Command.class).name().equals(a)) {
                        sub = c;
                    }
                }
                if (sub == null) {
                    return null;
                }
                Constructor<?> make = sub.getDeclaredConstructor();
                make.setAccessible(true);
                current = make.newInstance();
                name.append(' ').append(a);
                collect(current, options, positional, declared);
            }
        }
        if (!(current instanceof AdminCommand.Leaf leaf) || next < positional.size()) {
            return null; // a group alone shows its usage; a missing parameter is picocli's message
        }
        for (Target t : declared) {
            if (!given.contains(t)) {
                if (t.required()) {
                    return null;
                }
                if (t.defaultValue() != null && !t.defaultValue().equals(NO_DEFAULT)) {
                    set(t, t.defaultValue());
                }
            }
        }
        return new Parsed(admin, leaf, name.toString());
    }

    /** The options (by every name) and parameters (by index) a command object declares, its superclasses' too. */
    private static void collect(Object owner, Map<String, Target> options, List<Target> positional,
                                List<Target> declared) {
        List<Target> params = new ArrayList<>();
        for (Class<?> c = owner.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                Option o = f.getAnnotation(Option.class);
                Parameters p = f.getAnnotation(Parameters.class);
                if (o != null) {
                    f.setAccessible(true);
                    if (o.usageHelp() || o.versionHelp()) {
                        continue; // -h, --help: picocli's
                    }
                    Target t = new Target(owner, f, o.required(), o.defaultValue(), o.split());
                    for (String n : o.names()) {
                        options.put(n, t);
                    }
                    declared.add(t);
                } else if (p != null) {
                    f.setAccessible(true);
                    int index = Integer.parseInt(p.index());
                    Target t = new Target(owner, f, true, null, p.split());
                    while (params.size() <= index) {
                        params.add(null);
                    }
                    params.set(index, t);
                    declared.add(t);
                }
            }
        }
        if (params.contains(null)) {
            throw new IllegalStateException("parameters of " + owner.getClass() + " are not numbered 0, 1, …");
        }
        positional.addAll(params);
    }

    /** Converts as picocli does for the types the admin commands use; any other type is picocli's. */
    @SuppressWarnings("unchecked")
    private static void set(Target t, String value) throws IllegalAccessException {
        Field f = t.field();
        Class<?> type = f.getType();
        if (type == String.class) {
            f.set(t.owner(), value);
        } else if (type == Path.class) {
            f.set(t.owner(), Path.of(value));
        } else if (type == Long.class || type == long.class) {
            f.set(t.owner(), Long.parseLong(value));
        } else if (type == List.class && f.getGenericType() instanceof ParameterizedType pt
                && pt.getActualTypeArguments()[0] == String.class) {
            List<String> list = (List<String>) f.get(t.owner());
            if (list == null) {
                list = new ArrayList<>();
                f.set(t.owner(), list);
            }
            list.addAll(t.split().isEmpty() ? List.of(value) : List.of(value.split(t.split(), -1)));
        } else {
            throw new IllegalArgumentException("a type picocli converts: " + type);
        }
    }
}
