package io.berth.http;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * Prometheus text exposition (format 0.0.4) of HTTP request counts and latency histograms by
 * route, method and status, JVM figures, and gauges other parts register.
 */
public final class HttpMetrics {
    private static final double[] BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
            60};

    private record Key(String route, String method, String status) {
    }

    private static final class Histogram {
        final LongAdder[] counts = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final LongAdder sumNanos = new LongAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(long nanos) {
            double s = nanos / 1e9;
            for (int i = 0; i < BUCKETS.length; i++) {
                if (s <= BUCKETS[i]) {
                    counts[i].increment();
                }
            }
            count.increment();
            sumNanos.add(nanos);
        }
    }

    private final Map<Key, Histogram> requests = new ConcurrentHashMap<>();
    private final Map<String, DoubleSupplier> gauges = new ConcurrentHashMap<>();
    private final LongAdder blobReadFailures = new LongAdder();

    /** A blob could not be read back from storage while serving it. */
    public void blobReadFailed() {
        blobReadFailures.increment();
    }

    public void request(String route, String method, int status, long nanos) {
        requests.computeIfAbsent(new Key(route, method, Integer.toString(status)), k -> new Histogram()).observe(nanos);
    }

    /** Registers a gauge {@code name} (with optional label text such as {@code {a="b"}}). */
    public void gauge(String name, DoubleSupplier value) {
        gauges.put(name, value);
    }

    public String scrape() {
        StringBuilder out = new StringBuilder(8192);
        out.append("# HELP berth_http_requests_total HTTP requests served.\n");
        out.append("# TYPE berth_http_requests_total counter\n");
        Map<Key, Histogram> sorted = new TreeMap<>((a, b) -> (a.route + a.method + a.status)
                .compareTo(b.route + b.method + b.status));
        sorted.putAll(requests);
        sorted.forEach((k, h) -> out.append("berth_http_requests_total").append(labels(k, null)).append(' ')
                .append(h.count.sum()).append('\n'));
        out.append("# HELP berth_http_request_duration_seconds Time to serve HTTP requests.\n");
        out.append("# TYPE berth_http_request_duration_seconds histogram\n");
        sorted.forEach((k, h) -> {
            for (int i = 0; i < BUCKETS.length; i++) {
                out.append("berth_http_request_duration_seconds_bucket").append(labels(k, fmt(BUCKETS[i])))
                        .append(' ').append(h.counts[i].sum()).append('\n');
            }
            out.append("berth_http_request_duration_seconds_bucket").append(labels(k, "+Inf")).append(' ')
                    .append(h.count.sum()).append('\n');
            out.append("berth_http_request_duration_seconds_sum").append(labels(k, null)).append(' ')
                    .append(fmt(h.sumNanos.sum() / 1e9)).append('\n');
            out.append("berth_http_request_duration_seconds_count").append(labels(k, null)).append(' ')
                    .append(h.count.sum()).append('\n');
        });
        out.append("# HELP berth_blob_read_failures_total Blob reads that failed or ended early while serving.\n");
        out.append("# TYPE berth_blob_read_failures_total counter\n");
        out.append("berth_blob_read_failures_total ").append(blobReadFailures.sum()).append('\n');
        jvm(out);
        new TreeMap<>(gauges).forEach((name, v) -> {
            String base = name.contains("{") ? name.substring(0, name.indexOf('{')) : name;
            out.append("# TYPE ").append(base).append(" gauge\n");
            out.append(name).append(' ').append(fmt(v.getAsDouble())).append('\n');
        });
        return out.toString();
    }

    private static void jvm(StringBuilder out) {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        gauge(out, "jvm_memory_heap_used_bytes", "Heap in use.", mem.getHeapMemoryUsage().getUsed());
        gauge(out, "jvm_memory_heap_committed_bytes", "Heap committed.", mem.getHeapMemoryUsage().getCommitted());
        gauge(out, "jvm_memory_heap_max_bytes", "Largest heap.", mem.getHeapMemoryUsage().getMax());
        gauge(out, "jvm_memory_nonheap_used_bytes", "Non-heap memory in use.", mem.getNonHeapMemoryUsage().getUsed());
        out.append("# TYPE jvm_memory_pool_used_bytes gauge\n");
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            out.append("jvm_memory_pool_used_bytes{pool=\"").append(escape(pool.getName())).append("\"} ")
                    .append(pool.getUsage().getUsed()).append('\n');
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        gauge(out, "jvm_threads_live", "Live platform threads.", threads.getThreadCount());
        out.append("# TYPE jvm_gc_collections_total counter\n");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            out.append("jvm_gc_collections_total{gc=\"").append(escape(gc.getName())).append("\"} ")
                    .append(gc.getCollectionCount()).append('\n');
        }
        out.append("# TYPE jvm_gc_collection_seconds_total counter\n");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            out.append("jvm_gc_collection_seconds_total{gc=\"").append(escape(gc.getName())).append("\"} ")
                    .append(fmt(gc.getCollectionTime() / 1000.0)).append('\n');
        }
        gauge(out, "process_uptime_seconds", "Time since the JVM started.",
                ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
        gauge(out, "process_available_processors", "Processors available to the JVM.",
                Runtime.getRuntime().availableProcessors());
    }

    private static void gauge(StringBuilder out, String name, String help, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(fmt(value)).append('\n');
    }

    private static String labels(Key k, String le) {
        StringBuilder b = new StringBuilder("{route=\"").append(escape(k.route)).append("\",method=\"")
                .append(k.method).append("\",status=\"").append(k.status).append('"');
        if (le != null) {
            b.append(",le=\"").append(le).append('"');
        }
        return b.append('}').toString();
    }

    private static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6g", v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
