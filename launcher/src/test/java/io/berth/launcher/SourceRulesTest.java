package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Rules for the source text itself, over every module's main and test code: a type is named by an
 * import, not written out inline ({@code java.util.concurrent.ScheduledExecutorService} in the middle
 * of a method hides a dependency from whoever reads the imports) — unless its simple name is already
 * taken in that file by another type, the one case an inline name is needed.
 */
class SourceRulesTest {
    static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.])((?:java|javax|jdk|io|org|com|sun)\\.(?:[a-z][a-z0-9_]*\\.)*)([A-Z][A-Za-z0-9_]*)");
    static final Pattern IMPORT = Pattern.compile("(?m)^import (static )?([\\w.]+)\\.(\\w+|\\*);");
    static final Pattern DECLARED = Pattern.compile("\\b(?:class|interface|enum|record)\\s+([A-Z]\\w*)");
    static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");

    @Test
    void typesAreImportedNotWrittenOutInline() throws IOException {
        List<String> inline = new ArrayList<>();
        int files = 0;
        for (Path file : javaSources()) {
            files++;
            String src = Files.readString(file);
            String code = withoutCommentsAndLiterals(src);
            Matcher pkg = PACKAGE.matcher(src);
            String own = pkg.find() ? pkg.group(1) : "";
            Map<String, String> imported = new HashMap<>();
            int bodyStart = 0;
            Matcher im = IMPORT.matcher(src);
            while (im.find()) {
                bodyStart = im.end();
                if (im.group(1) == null && !im.group(3).equals("*")) {
                    imported.put(im.group(3), im.group(2));
                }
            }
            Set<String> declared = new HashSet<>();
            Matcher d = DECLARED.matcher(code);
            while (d.find()) {
                declared.add(d.group(1));
            }
            Set<String> samePackage = new HashSet<>();
            try (Stream<Path> siblings = Files.list(file.getParent())) {
                siblings.map(f -> f.getFileName().toString())
                        .filter(n -> n.endsWith(".java"))
                        .forEach(n -> samePackage.add(n.substring(0, n.length() - 5)));
            }
            Matcher q = QUALIFIED.matcher(code);
            while (q.find(bodyStart)) {
                bodyStart = q.end();
                String qualifier = q.group(1).substring(0, q.group(1).length() - 1);
                String simple = q.group(2);
                boolean taken =
                        imported.containsKey(simple) && !imported.get(simple).equals(qualifier)
                                || declared.contains(simple)
                                || !qualifier.equals(own) && samePackage.contains(simple)
                                || qualifier.equals("java.lang") == false && javaLang(simple);
                if (!taken) {
                    inline.add(Path.of("..").relativize(file) + ": " + q.group());
                }
            }
        }
        assertTrue(files > 300, "the sources were found: " + files);
        assertEquals(List.of(), inline, "import these types instead of naming them inline");
    }

    private static boolean javaLang(String simple) {
        try {
            Class.forName("java.lang." + simple);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static List<Path> javaSources() throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> modules = Files.list(Path.of(".."))) {
            for (Path module : modules.filter(Files::isDirectory).toList()) {
                for (String tree : List.of("src/main/java", "src/test/java")) {
                    Path root = module.resolve(tree);
                    if (Files.isDirectory(root)) {
                        try (Stream<Path> walk = Files.walk(root)) {
                            walk.filter(f -> f.toString().endsWith(".java")).forEach(all::add);
                        }
                    }
                }
            }
        }
        return all;
    }

    /** The code with comments, strings, text blocks and char literals blanked out (same length). */
    static String withoutCommentsAndLiterals(String src) {
        char[] out = src.toCharArray();
        int i = 0;
        int n = src.length();
        while (i < n) {
            int end;
            if (src.startsWith("//", i)) {
                end = src.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else if (src.startsWith("/*", i)) {
                end = src.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
            } else if (src.startsWith("\"\"\"", i)) {
                end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
            } else if (src.charAt(i) == '"' || src.charAt(i) == '\'') {
                char quote = src.charAt(i);
                end = i + 1;
                while (end < n && src.charAt(end) != quote) {
                    end += src.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(end + 1, n);
            } else {
                i++;
                continue;
            }
            for (int k = i; k < end; k++) {
                if (out[k] != '\n') {
                    out[k] = ' ';
                }
            }
            i = end;
        }
        return new String(out);
    }
}
