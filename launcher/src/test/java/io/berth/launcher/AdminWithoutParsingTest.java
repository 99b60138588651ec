package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.testsupport.JavaProcess;
import java.io.File;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine;

/**
 * {@code berth admin} reads plain command lines without picocli ({@link AdminWithoutParsing}); for
 * every admin command, with every option in every spelling and place, both read the same values, and
 * whatever the fast reading declines is something only picocli says (help, mistakes).
 */
class AdminWithoutParsingTest {

    /** Every leaf command of {@code berth admin}, as picocli models it. */
    static List<CommandLine> leaves() {
        List<CommandLine> out = new ArrayList<>();
        ArrayDeque<CommandLine> work = new ArrayDeque<>(List.of(Main.commandLine(
                new String[] {"admin"}).getSubcommands().get("admin")));
        while (!work.isEmpty()) {
            CommandLine c = work.pop();
            if (c.getSubcommands().isEmpty()) {
                out.add(c);
            }
            work.addAll(c.getSubcommands().values());
        }
        return out;
    }

    static String sample(Class<?> type, String name) {
        if (type == boolean.class) {
            return null;
        }
        if (type == Long.class || type == long.class) {
            return "7";
        }
        if (type == Path.class) {
            return "/tmp/berth-" + name.replace("-", "");
        }
        if (List.class.isAssignableFrom(type)) {
            return "a-" + name.replace("-", "") + ",b";
        }
        return "v-" + name.replace("-", "");
    }

    /** Values of every option and parameter field of {@code o} (its superclasses' too), by field name. */
    static Map<String, Object> values(Object o) throws IllegalAccessException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.isAnnotationPresent(CommandLine.Option.class)
                        || f.isAnnotationPresent(CommandLine.Parameters.class)) {
                    f.setAccessible(true);
                    out.put(c.getSimpleName() + "." + f.getName(), f.get(o));
                }
            }
        }
        return out;
    }

    /** What picocli reads: the admin command's values and the leaf's. */
    static Map<String, Object> picocli(String[] args) throws IllegalAccessException {
        CommandLine cli = Main.commandLine(args);
        CommandLine.ParseResult r = cli.parseArgs(args);
        Map<String, Object> out = new LinkedHashMap<>();
        CommandLine.ParseResult leaf = r;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
            Object user = leaf.commandSpec().userObject();
            if (user instanceof AdminCommand || user instanceof AdminCommand.Leaf) {
                out.putAll(values(user));
            }
        }
        return out;
    }

    static Map<String, Object> fast(String[] args) throws IllegalAccessException {
        Optional<AdminWithoutParsing.Parsed> p = AdminWithoutParsing.parse(args);
        assertTrue(p.isPresent(), "read without picocli: " + String.join(" ", args));
        Map<String, Object> out = new LinkedHashMap<>(values(p.get().admin()));
        out.putAll(values(p.get().leaf()));
        return out;
    }

    static void same(List<String> args) throws IllegalAccessException {
        String[] a = args.toArray(String[]::new);
        assertEquals(picocli(a), fast(a), String.join(" ", args));
    }

    @Test
    void everyCommandWithEveryOptionReadsAsPicocliReadsIt() throws Exception {
        List<CommandLine> leaves = leaves();
        assertTrue(leaves.size() >= 25, "admin's commands: " + leaves.size());
        int lines = 0;
        for (CommandLine leaf : leaves) {
            CommandSpec spec = leaf.getCommandSpec();
            List<String> path = new ArrayList<>(List.of(spec.qualifiedName(" ").split(" ")));
            path.removeFirst(); // berth
            List<String> params = new ArrayList<>();
            for (PositionalParamSpec p : spec.positionalParameters()) {
                params.add("p" + p.index().min());
            }
            List<String> required = new ArrayList<>();
            List<List<String>> optional = new ArrayList<>();
            for (OptionSpec o : spec.options()) {
                if (o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String value = sample(o.type(), o.longestName());
                List<String> spelled = value == null ? List.of(o.longestName()) : List.of(o.longestName(), value);
                if (o.required()) {
                    required.addAll(spelled);
                } else {
                    optional.add(spelled);
                }
            }
            // the bare command: defaults
            List<String> bare = new ArrayList<>(path);
            bare.addAll(params);
            bare.addAll(required);
            same(bare);
            // every option after the parameters, as --name value
            List<String> all = new ArrayList<>(bare);
            optional.forEach(all::addAll);
            same(all);
            // the same with --name=value, and options first, before the subcommands
            List<String> equals = new ArrayList<>();
            for (List<String> o : optional) {
                equals.add(o.size() == 1 ? o.get(0) : o.get(0) + "=" + o.get(1));
            }
            List<String> first = new ArrayList<>(List.of(path.get(0)));
            first.addAll(List.of("--server", "h:1", "--json"));
            first.addAll(path.subList(1, path.size()));
            first.addAll(equals.stream().filter(e -> !e.startsWith("--server") && !e.startsWith("--json")).toList());
            first.addAll(required);
            first.addAll(params);
            same(first);
            lines += 3;
        }
        System.out.println(lines + " command lines of " + leaves.size() + " admin commands read alike");
    }

    /**
     * What made a call slow (docs/benchmarks.md): picocli's model (its classes are never in the AOT
     * cache) and Jackson, which logging loaded for nothing. A call loads neither now; the figures of
     * a call, before and after, are in docs/benchmarks.md.
     */
    @Test
    void anAdminCallLoadsNeitherPicocliNorJackson(@TempDir Path dir) throws Exception {
        Path classes = dir.resolve("classes.log");
        long start = System.nanoTime();
        Path target = Path.of("target").toAbsolutePath();
        String adminClassPath = target.resolve("classes") + File.pathSeparator + target.resolve("admin-lib")
                + "/*"; // as bin/berth runs admin
        try (JavaProcess p = JavaProcess.start(adminClassPath,
                "io.berth.launcher.Main", List.of("-Xlog:class+load:file=" + classes), List.of("admin", "--server",
                        "127.0.0.1:1", "--json", "info"), Map.of("BERTH_ADMIN_TOKEN", "t"), dir,
                dir.resolve("admin.log"))) {
            assertTrue(p.process().waitFor(120, TimeUnit.SECONDS));
            assertEquals(1, p.process().exitValue(), p.output());
            assertTrue(p.output().contains("cannot reach the admin API at 127.0.0.1:1"), p.output());
        }
        List<String> loaded = Files.readAllLines(classes).stream()
                .map(l -> l.replaceFirst("^\\[[^]]*]\\[[^]]*]\\[[^]]*] ", "").split(" ")[0]).toList();
        System.out.println("berth admin info (unreachable server, no AOT cache): " + loaded.size() + " classes, "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertTrue(loaded.contains("io.berth.launcher.AdminWithoutParsing"), "the fast path ran");
        assertTrue(!loaded.contains("picocli.CommandLine"), "picocli's model is never built");
        assertTrue(loaded.stream().noneMatch(c -> c.startsWith("com.fasterxml.jackson.databind.")),
                "Jackson is not loaded: " + loaded.stream().filter(c -> c.contains("jackson")).toList());
    }

    @Test
    void whatOnlyPicocliCanSayIsLeftToIt() {
        for (String line : List.of("admin", "admin tags", "admin tags list", "admin --help", "admin tags list -h",
                "admin tags list app --help", "admin tags list app --bogus", "admin tags list app extra",
                "admin tags list app --regex v1", "admin tags list app --regex=v1", "admin tags list app --sort",
                "admin tags list app --sort name --sort pushed", "admin tags set app t", "admin tags restore app t -h",
                "admin tags restore app t --version x", "admin tags list app -- --x", "admin nothing",
                "admin tags list app --filter -x", "admin -V", "serve", "admin")) {
            assertTrue(AdminWithoutParsing.parse(line.split(" ")).isEmpty(), line);
        }
    }
}
