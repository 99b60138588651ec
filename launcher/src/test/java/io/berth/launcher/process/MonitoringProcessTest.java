package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The dashboard and alert rules of deploy/ (docs/observability.md) query only what Berth exports: every
 * metric name in every PromQL expression of deploy/grafana/berth-dashboard.json (panels and variables)
 * and deploy/prometheus/berth-alerts.yml is a series in the {@code /metrics} of real {@code berth serve}
 * (with events), {@code berth replicate} and {@code berth webhooks} processes, and every label an
 * expression matches on is one such a series has. Names are compared with the scraped samples, as
 * Prometheus stores them: a histogram's {@code _bucket}, {@code _sum} and {@code _count} are there, its
 * bare family name is not, so no suffix is stripped. The files' structure is checked too.
 */
@Tag("process")
class MonitoringProcessTest extends ReplicationFixture {
    static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "berth-dashboard.json");
    static final Path ALERTS = Path.of("..", "deploy", "prometheus", "berth-alerts.yml");
    static final Path PROMETHEUS = Path.of("..", "deploy", "prometheus", "prometheus.yml");

    /** Series Prometheus makes itself for every target, not in any /metrics. */
    static final Set<String> SYNTHETIC = Set.of("up");

    /** Labels Prometheus adds to every series at scrape time. */
    static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    static final Set<String> KEYWORDS = Set.of(
            "and",
            "or",
            "unless",
            "bool",
            "offset",
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "inf",
            "nan",
            "atan2");

    /** Quoted strings of PromQL (label values, regexes). */
    static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");

    /** Grafana's variables: $name, ${name}, ${name:format}, $__rate_interval. */
    static final Pattern VARIABLES = Pattern.compile("\\$\\{[^}]*}|\\$\\w+");

    /** Label lists after grouping and matching keywords. */
    static final Pattern LABEL_LISTS =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");

    static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.:])([A-Za-z_:][\\w:]*)");

    /** A selector with matchers: the name (group 1) and what is between the braces (group 2). */
    static final Pattern SELECTOR = Pattern.compile("(?<![\\w.:])([A-Za-z_:][\\w:]*)\\s*\\{([^}]*)}");

    static final Pattern MATCHER =
            Pattern.compile("\\s*([A-Za-z_]\\w*)\\s*(=~|!~|!=|=)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*')\\s*,?");

    /** Grafana's template function label_values(metric, label) or label_values(label). */
    static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((?:(.*),)?\\s*\\w+\\s*\\)\\s*$");

    /** A scraped sample line: name, optional labels. */
    static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][\\w:]*)(?:\\{(.*)})?\\s");

    static final Pattern SAMPLE_LABEL = Pattern.compile("([A-Za-z_]\\w*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    static final Pattern DURATION = Pattern.compile("\\d+[smhdwy]");

    @Test
    void everyQueriedMetricIsExported() throws Exception {
        Map<String, Set<String>> queried = new TreeMap<>(); // expression -> where
        dashboardExpressions()
                .forEach((expr, where) ->
                        queried.computeIfAbsent(expr, k -> new TreeSet<>()).add(where));
        alertExpressions()
                .forEach((expr, where) ->
                        queried.computeIfAbsent(expr, k -> new TreeSet<>()).add(where));
        Set<String> names = new TreeSet<>();
        queried.keySet().forEach(e -> names.addAll(metricNames(e)));
        // the extractor found what the files are about: a broken one would find nothing and pass
        for (String needed : List.of(
                "berth_events_outbox_depth",
                "berth_events_outbox_oldest_age_seconds",
                "berth_replication_lag_seconds",
                "berth_replication_events_parked_total",
                "berth_webhook_deliveries_total",
                "berth_http_requests_total",
                "berth_storage_free_bytes")) {
            assertTrue(names.contains(needed), needed + " is queried; found " + names);
        }

        BerthProcess source = site("source", events());
        BerthProcess target = site("target", Map.of());
        // a request, so that the request counters and histogram have a series
        HTTP.send(
                HttpRequest.newBuilder(URI.create(source.base() + "/v2/")).build(),
                HttpResponse.BodyHandlers.discarding());
        JavaProcess replicator = replicator(source.base(), targetYaml("site-b", target.base(), ""), List.of(), "1h");
        int webhooksPort = FreePorts.next();
        webhooks(webhooksPort);

        Map<String, List<Map<String, String>>> exported = new HashMap<>(); // name -> label sets
        Map<String, String> scrapes = new LinkedHashMap<>();
        scrapes.put("berth serve", source.base() + "/metrics");
        scrapes.put("berth replicate", "http://127.0.0.1:" + statusPorts.get(replicator) + "/metrics");
        scrapes.put("berth webhooks", "http://127.0.0.1:" + webhooksPort + "/metrics");
        for (String url : scrapes.values()) {
            HttpResponse<String> r =
                    HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), url);
            parseScrape(r.body(), exported);
        }

        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Set<String>> q : queried.entrySet()) {
            for (String name : metricNames(q.getKey())) {
                if (!SYNTHETIC.contains(name) && !exported.containsKey(name)) {
                    missing.add(name + " (in " + q.getValue() + ")");
                }
            }
            for (String problem : labelProblems(q.getKey(), exported)) {
                missing.add(problem + " (in " + q.getValue() + ")");
            }
        }
        assertTrue(
                missing.isEmpty(),
                "queried but not in the /metrics of " + scrapes.keySet() + ":\n  " + String.join("\n  ", missing));
    }

    @Test
    void alertRulesAreWellFormed() throws Exception {
        Map<String, Object> file = new Yaml().load(Files.readString(ALERTS));
        assertEquals(Set.of("groups"), file.keySet(), "top level of " + ALERTS);
        List<Map<String, Object>> groups = list(file.get("groups"), "groups");
        assertFalse(groups.isEmpty(), "no groups");
        Set<String> groupNames = new HashSet<>();
        Set<String> alerts = new HashSet<>();
        for (Map<String, Object> g : groups) {
            assertTrue(groupNames.add(string(g, "name", "group")), "group names are unique: " + g.get("name"));
            assertTrue(Set.of("name", "rules", "interval").containsAll(g.keySet()), "group keys " + g.keySet());
            for (Map<String, Object> rule : list(g.get("rules"), "rules of " + g.get("name"))) {
                String alert = string(rule, "alert", "rule of " + g.get("name"));
                String where = "alert " + alert;
                assertTrue(alert.matches("Berth[A-Z][A-Za-z]+"), where + ": named BerthSomething");
                assertTrue(alerts.add(alert), where + ": alert names are unique");
                assertTrue(
                        Set.of("alert", "expr", "for", "labels", "annotations").containsAll(rule.keySet()),
                        where + ": keys " + rule.keySet());
                checkBalanced(string(rule, "expr", where), where);
                assertTrue(
                        DURATION.matcher(string(rule, "for", where)).matches(),
                        where + ": for is a duration: " + rule.get("for"));
                Map<String, Object> labels = map(rule.get("labels"), where + " labels");
                assertTrue(
                        Set.of("critical", "warning", "info").contains(string(labels, "severity", where)),
                        where + ": severity critical, warning or info");
                Map<String, Object> annotations = map(rule.get("annotations"), where + " annotations");
                string(annotations, "summary", where);
                string(annotations, "description", where);
            }
        }
        Map<String, Object> prometheus = new Yaml().load(Files.readString(PROMETHEUS));
        assertEquals(List.of(ALERTS.getFileName().toString()), prometheus.get("rule_files"), PROMETHEUS.toString());
    }

    @Test
    void dashboardIsWellFormed() throws Exception {
        JsonNode d = JSON.readTree(DASHBOARD.toFile());
        assertTrue(d.path("uid").isTextual() && d.path("title").isTextual(), "uid and title");
        Map<String, JsonNode> variables = new HashMap<>();
        d.path("templating")
                .path("list")
                .forEach(v -> variables.put(v.path("name").asText(), v));
        assertEquals("datasource", variables.get("datasource").path("type").asText(), "a datasource variable");
        assertEquals("prometheus", variables.get("datasource").path("query").asText());
        assertTrue(variables.containsKey("instance"), "an instance variable");
        Set<Integer> ids = new HashSet<>();
        int queries = 0;
        for (JsonNode p : panels(d)) {
            String where = "panel " + p.path("title").asText();
            assertTrue(ids.add(p.path("id").asInt()), where + ": unique id");
            assertTrue(p.path("gridPos").has("w") && p.path("gridPos").has("h"), where + ": gridPos");
            if (p.path("type").asText().equals("row")) {
                continue;
            }
            assertEquals("${datasource}", p.path("datasource").path("uid").asText(), where + ": datasource");
            assertTrue(p.path("targets").size() > 0, where + ": has queries");
            for (JsonNode t : p.path("targets")) {
                String expr = t.path("expr").asText();
                checkBalanced(expr, where);
                assertTrue(expr.contains("$instance"), where + ": filters by $instance: " + expr);
                queries++;
            }
        }
        assertTrue(queries > 10, "queries: " + queries);
    }

    @Test
    void extractorFindsMetricNamesOnly() {
        assertEquals(
                Set.of("berth_a_bucket", "berth_b_total", "jvm_c", "up"),
                metricNames("histogram_quantile(0.99, sum by (instance, le) (rate(berth_a_bucket{route=\"x{y}\","
                        + "instance=~\"$instance\"}[$__rate_interval]))) / on (job) group_left(target)"
                        + " sum without (path) (increase(berth_b_total[5m] offset 1h)) > 1e3 and jvm_c"
                        + " unless up == bool 0"));
        assertEquals(
                Set.of("process_uptime_seconds"),
                metricNames("label_values(process_uptime_seconds{job=~\"$job\"}, instance)"));
        assertEquals(Set.of(), metricNames("label_values(job)"));
        assertEquals(Set.of("berth_x", "berth_y"), metricNames("berth_x/berth_y"));
    }

    /** Starts {@code berth webhooks} with one endpoint (its metrics are per endpoint) on {@code port}. */
    void webhooks(int port) throws Exception {
        Path config = Files.writeString(dir.resolve("webhooks.yaml"), """
                webhooks:
                  kafka: { bootstrap-servers: "%s", topic: "%s", group: "hooks-%s" }
                  http-port: %d
                  endpoints:
                    - name: ci
                      url: http://127.0.0.1:9/hook
                """.formatted(
                        KafkaBroker.shared().bootstrapServers(), topic, topic, port));
        started.add(WebhooksRelay.start(dir, config));
    }

    /** Every PromQL expression of the dashboard (panels' targets, variables' queries) and where it is. */
    static Map<String, String> dashboardExpressions() throws Exception {
        JsonNode d = JSON.readTree(DASHBOARD.toFile());
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode p : panels(d)) {
            for (JsonNode t : p.path("targets")) {
                out.put(
                        t.path("expr").asText(),
                        "dashboard panel " + p.path("title").asText());
            }
        }
        for (JsonNode v : d.path("templating").path("list")) {
            if (v.path("type").asText().equals("query")) {
                JsonNode q = v.path("query");
                out.put(q.isTextual() ? q.asText() : q.path("query").asText(), "dashboard variable " + v.path("name"));
            }
        }
        out.remove("");
        return out;
    }

    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add); // collapsed rows hold their panels
        }
        return out;
    }

    static Map<String, String> alertExpressions() throws Exception {
        Map<String, Object> file = new Yaml().load(Files.readString(ALERTS));
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, Object> g : list(file.get("groups"), "groups")) {
            for (Map<String, Object> rule : list(g.get("rules"), "rules")) {
                out.put(String.valueOf(rule.get("expr")), "alert " + rule.get("alert"));
            }
        }
        return out;
    }

    /**
     * The metric names a PromQL expression (or a Grafana {@code label_values} query) selects: identifiers
     * outside strings, label matchers, ranges and label lists that are neither functions (followed by
     * {@code (}) nor keywords.
     */
    static Set<String> metricNames(String expression) {
        Matcher lv = LABEL_VALUES.matcher(expression);
        String s = lv.matches() ? (lv.group(1) == null ? "" : lv.group(1)) : expression;
        s = STRINGS.matcher(s).replaceAll(" ");
        s = VARIABLES.matcher(s).replaceAll(" ");
        s = s.replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^\\]]*\\]", " ");
        s = LABEL_LISTS.matcher(s).replaceAll(" ");
        Set<String> out = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String name = m.group(1);
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
                next++;
            }
            boolean function = next < s.length() && s.charAt(next) == '(';
            if (!function && !KEYWORDS.contains(name.toLowerCase())) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * Matchers no exported series satisfies: a label the metric never has, or (for {@code =}) a value it
     * never takes. Regex and negative matchers are checked for the label only.
     */
    static List<String> labelProblems(String expression, Map<String, List<Map<String, String>>> exported) {
        List<String> problems = new ArrayList<>();
        Matcher sel = SELECTOR.matcher(expression);
        while (sel.find()) {
            List<Map<String, String>> series = exported.get(sel.group(1));
            if (series == null) {
                continue; // reported as missing, or synthetic
            }
            Matcher m = MATCHER.matcher(sel.group(2));
            while (m.lookingAt()) {
                String label = m.group(1);
                String value = m.group(3).substring(1, m.group(3).length() - 1);
                if (!TARGET_LABELS.contains(label)) {
                    boolean found = series.stream()
                            .anyMatch(l ->
                                    l.containsKey(label) && (!m.group(2).equals("=") || value.equals(l.get(label))));
                    if (!found) {
                        problems.add(sel.group(1) + " has no series with " + label
                                + (m.group(2).equals("=") ? "=\"" + value + "\"" : ""));
                    }
                }
                m.region(m.end(), m.regionEnd());
            }
        }
        return problems;
    }

    static void parseScrape(String body, Map<String, List<Map<String, String>>> exported) {
        for (String line : body.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.find()) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(2) != null) {
                Matcher l = SAMPLE_LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            exported.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(labels);
        }
    }

    /** Parentheses, brackets and braces outside strings are balanced. */
    static void checkBalanced(String expr, String where) {
        String s = STRINGS.matcher(expr).replaceAll("\"\"");
        StringBuilder open = new StringBuilder();
        for (char c : s.toCharArray()) {
            if ("([{".indexOf(c) >= 0) {
                open.append(c);
            } else if (")]}".indexOf(c) >= 0) {
                assertTrue(
                        open.length() > 0 && "([{".indexOf(open.charAt(open.length() - 1)) == ")]}".indexOf(c),
                        where + ": unbalanced " + c + " in " + expr);
                open.setLength(open.length() - 1);
            }
        }
        assertEquals("", open.toString(), where + ": unclosed in " + expr);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object o, String what) {
        assertTrue(o instanceof List<?>, what + " is a list");
        return (List<Map<String, Object>>) o;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        assertTrue(o instanceof Map<?, ?>, what + " is a map");
        return (Map<String, Object>) o;
    }

    static String string(Map<String, Object> m, String key, String where) {
        Object v = m.get(key);
        assertTrue(v instanceof String s && !s.isBlank(), where + ": " + key + " is a non-empty string");
        return (String) v;
    }
}
