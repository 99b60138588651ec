package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import io.berth.events.DistributionEvent;
import io.berth.events.EventCodec;
import io.berth.events.RegistryEvent;
import io.berth.testsupport.FreePorts;
import io.berth.testsupport.JavaProcess;
import io.berth.testsupport.KafkaBroker;
import io.berth.testsupport.TopicReader;
import io.berth.webhooks.Signature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth webhooks} as a process against a real broker and local receivers. */
@Tag("process")
class WebhooksProcessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    final String topic = "berth.hooks." + UUID.randomUUID();
    final List<Receiver> receivers = new ArrayList<>();

    /** A local endpoint: records what it gets and answers as told. */
    static final class Receiver implements AutoCloseable {
        final HttpServer server;
        final ConcurrentLinkedQueue<Map<String, Object>> got = new ConcurrentLinkedQueue<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger inProgress = new AtomicInteger();
        volatile IntSupplier status = () -> 200;
        volatile CountDownLatch hold = new CountDownLatch(0);

        Receiver() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", FreePorts.next()), 50);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/hook", x -> {
                inProgress.incrementAndGet();
                try {
                    byte[] body = x.getRequestBody().readAllBytes();
                    calls.incrementAndGet();
                    hold.await(120, TimeUnit.SECONDS);
                    int s = status.getAsInt();
                    if (s / 100 == 2) {
                        got.add(Map.of("body", body, "headers", x.getRequestHeaders()));
                    }
                    x.sendResponseHeaders(s, -1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inProgress.decrementAndGet();
                    x.close();
                }
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        @Override
        public void close() {
            hold.countDown();
            server.stop(0);
        }
    }

    @AfterEach
    void stopReceivers() {
        receivers.forEach(Receiver::close);
    }

    Receiver receiver() throws IOException {
        Receiver r = new Receiver();
        receivers.add(r);
        return r;
    }

    static RegistryEvent event(String repository, String action, String type, String tag) {
        String id = UUID.randomUUID().toString();
        String time = Instant.now().toString();
        return new RegistryEvent(
                "1.0",
                id,
                "//test",
                type,
                time,
                repository + ":" + tag,
                "application/json",
                "1",
                repository,
                new DistributionEvent(
                        id,
                        time,
                        action,
                        new DistributionEvent.Target(
                                "application/vnd.oci.image.manifest.v1+json",
                                "sha256:" + "c".repeat(64),
                                10L,
                                10L,
                                repository,
                                "http://x/v2/" + repository + "/manifests/sha256:" + "c".repeat(64),
                                tag,
                                List.of()),
                        new DistributionEvent.Request("r", "127.0.0.1", "x", "PUT", "test"),
                        new DistributionEvent.Actor(""),
                        new DistributionEvent.Source("x", "i")));
    }

    void publish(RegistryEvent... events) throws Exception {
        publish(KafkaBroker.shared(), events);
    }

    void publish(KafkaBroker broker, RegistryEvent... events) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (RegistryEvent e : events) {
                ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, e.repository(), EventCodec.encode(e));
                r.headers().add(EventCodec.HEADER_ID, e.id().getBytes(StandardCharsets.UTF_8));
                producer.send(r).get();
            }
        }
    }

    JavaProcess startRelay(String endpointsYaml) throws Exception {
        return startRelay(KafkaBroker.shared(), endpointsYaml);
    }

    JavaProcess startRelay(KafkaBroker broker, String endpointsYaml) throws Exception {
        Path config = dir.resolve("webhooks-" + System.nanoTime() + ".yaml");
        Files.writeString(
                config,
                "webhooks:\n  kafka: { bootstrap-servers: \"" + broker.bootstrapServers()
                        + "\", topic: \"" + topic + "\", group: \"g-" + topic + "\" }\n  http-port: 0\n  endpoints:\n"
                        + endpointsYaml);
        return WebhooksRelay.start(dir, config);
    }

    static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void signedDistributionEnvelopesReachFilteredEndpointsAndFailingOnesRetryOrDeadLetter() throws Exception {
        Receiver signed = receiver();
        Receiver flaky = receiver();
        AtomicInteger flakyCalls = new AtomicInteger();
        flaky.status = () -> flakyCalls.incrementAndGet() <= 3 ? 503 : 200;
        Receiver dead = receiver();
        dead.status = () -> 500;
        // a receiver whose URL carries credentials (user info, a token in the query)
        String deadUrl = dead.url().replace("http://", "http://hook:pw-in-url@") + "?token=qs-secret-77";
        try (JavaProcess relay = startRelay("""
                    - name: ci
                      url: %s
                      secret: s3cret
                      headers: { X-Team: a }
                      actions: [push]
                      repositories: ["team-a/**"]
                    - name: flaky
                      url: %s
                      max-attempts: 8
                    - name: dead
                      url: %s
                      max-attempts: 2
                """.formatted(signed.url(), flaky.url(), deadUrl))) {
            RegistryEvent wanted = event("team-a/app", "push", "io.berth.manifest.pushed", "v1");
            RegistryEvent otherRepo = event("team-b/app", "push", "io.berth.manifest.pushed", "v1");
            RegistryEvent delete = event("team-a/app", "delete", "io.berth.tag.deleted", "v0");
            publish(wanted, otherRepo, delete);

            await("the filtered endpoint's delivery", () -> !signed.got.isEmpty(), Duration.ofSeconds(60));
            Map<String, Object> d = signed.got.peek();
            byte[] body = (byte[]) d.get("body");
            var headers = (Headers) d.get("headers");
            assertEquals("application/vnd.docker.distribution.events.v2+json", headers.getFirst("Content-Type"));
            assertTrue(
                    Signature.verify(
                            "s3cret",
                            headers.getFirst("X-Berth-Timestamp"),
                            body,
                            headers.getFirst("X-Berth-Signature")),
                    "the signature checks out");
            assertEquals(wanted.id(), headers.getFirst("X-Berth-Event-Id"));
            assertEquals("a", headers.getFirst("X-Team"));
            JsonNode envelope = JSON.readTree(body);
            assertEquals(1, envelope.get("events").size());
            JsonNode e = envelope.get("events").get(0);
            assertEquals(wanted.id(), e.get("id").asText());
            assertEquals("push", e.get("action").asText());
            assertEquals("team-a/app", e.get("target").get("repository").asText());

            // the flaky endpoint gets all three after its failures
            await("the flaky endpoint's deliveries", () -> flaky.got.size() == 3, Duration.ofSeconds(60));
            // the dead one sends them to the dead-letter topic, with the endpoint and the error
            try (TopicReader dlq = new TopicReader(KafkaBroker.shared().bootstrapServers(), topic + ".dlq")) {
                List<ConsumerRecord<String, byte[]>> dl = dlq.until(rs -> rs.size() >= 3, Duration.ofSeconds(60));
                assertEquals(3, dl.size());
                ConsumerRecord<String, byte[]> first = dl.get(0);
                assertEquals(
                        "dead",
                        new String(first.headers().lastHeader("berth-endpoint").value()));
                // the receiver's URL without what may be secret in it
                assertEquals(
                        dead.url(),
                        new String(
                                first.headers().lastHeader("berth-endpoint-url").value()));
                assertTrue(new String(first.headers().lastHeader("berth-error").value()).contains("500"));
                for (ConsumerRecord<String, byte[]> r : dl) {
                    assertEquals(
                            "2",
                            new String(r.headers().lastHeader("berth-attempts").value()),
                            "max-attempts, then the dead-letter topic");
                }
                assertEquals(wanted.id(), EventCodec.decode(first.value()).id());
            }
            Thread.sleep(1000);
            assertEquals(1, signed.got.size(), "other repositories and actions are filtered out");
            assertTrue(dead.calls.get() <= 6, "at most two attempts per event (fewer once its circuit opened)");
            assertTrue(
                    !relay.output().contains("pw-in-url") && !relay.output().contains("qs-secret-77"), relay.output());
            relay.process().destroy();
            assertTrue(relay.process().waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aHangingEndpointDoesNotDelayAHealthyOneAndAKilledRelayDeliversAgain() throws Exception {
        Receiver hanging = receiver();
        hanging.hold = new CountDownLatch(1);
        Receiver healthy = receiver();
        String endpoints = """
                    - name: hanging
                      url: %s
                      timeout: 60s
                    - name: healthy
                      url: %s
                """.formatted(hanging.url(), healthy.url());
        RegistryEvent e = event("any/app", "push", "io.berth.manifest.pushed", "v1");
        try (JavaProcess relay = startRelay(endpoints)) {
            publish(e);
            await("the healthy endpoint's delivery", () -> healthy.got.size() == 1, Duration.ofSeconds(60));
            assertEquals(1, hanging.inProgress.get(), "delivered while the hanging endpoint still holds its request");
            // delivery comes before its offset's commit (at least once): wait for the commit before the kill
            try (Admin admin = Admin.create(
                    Map.of("bootstrap.servers", KafkaBroker.shared().bootstrapServers()))) {
                await(
                        "the healthy endpoint's committed offset",
                        () -> {
                            try {
                                // past the event (its topic holds only it, at offset 0): a new endpoint starting from
                                // now
                                // may have committed its starting position, 0, before the delivery
                                return admin
                                        .listConsumerGroupOffsets("g-" + topic + ".healthy")
                                        .partitionsToOffsetAndMetadata()
                                        .get()
                                        .values()
                                        .stream()
                                        .anyMatch(o -> o != null && o.offset() >= 1);
                            } catch (Exception ex) {
                                return false;
                            }
                        },
                        Duration.ofSeconds(30));
            }
            // killed in the middle of the hanging delivery: nothing was committed for that endpoint
            relay.process().destroyForcibly().waitFor();
        }
        hanging.hold.countDown();
        // the held request of the killed relay finishes (and may be recorded) before the count is taken
        await("the held request to finish", () -> hanging.inProgress.get() == 0, Duration.ofSeconds(30));
        IntSupplier deliveries = () -> (int) hanging.got.stream()
                .filter(d -> e.id().equals(((Headers) d.get("headers")).getFirst("X-Berth-Event-Id")))
                .count();
        int before = deliveries.getAsInt();
        try (JavaProcess again = startRelay(endpoints)) {
            await("the re-delivery after the restart", () -> deliveries.getAsInt() > before, Duration.ofSeconds(60));
            Thread.sleep(1500);
            assertEquals(1, healthy.got.size(), "the healthy endpoint had committed: no second delivery");
            again.process().destroy();
        }
    }

    @Test
    void aKafkaOutageDuringDeliveryNeitherStopsNorSkips() throws Exception {
        Receiver receiver = receiver();
        receiver.hold = new CountDownLatch(1);
        RegistryEvent first = event("team-a/app", "push", "io.berth.manifest.pushed", "v1");
        RegistryEvent second = event("team-a/app", "push", "io.berth.manifest.pushed", "v2");
        try (KafkaBroker broker = KafkaBroker.dedicated();
                JavaProcess relay = startRelay(broker, "    - name: r\n      url: " + receiver.url() + "\n")) {
            publish(broker, first);
            await("the first delivery to start", () -> receiver.inProgress.get() == 1, Duration.ofSeconds(60));
            broker.stop();
            receiver.hold.countDown(); // delivered while Kafka is gone: its commit cannot succeed
            await("the commit to give up", () -> relay.output().contains("not committed yet"), Duration.ofSeconds(60));
            Thread.sleep(3000);
            broker.restart();
            publish(broker, second);
            await(
                    "the event published after the outage",
                    () -> ids(receiver).contains(second.id()),
                    Duration.ofSeconds(90));
            assertTrue(ids(receiver).contains(first.id()));
            assertTrue(relay.process().isAlive(), relay.output());
            assertTrue(!relay.output().contains("stopped delivering"), relay.output());
        }
    }

    static List<String> ids(Receiver r) {
        return r.got.stream()
                .map(d -> ((Headers) d.get("headers")).getFirst("X-Berth-Event-Id"))
                .toList();
    }

    @Test
    void aNewEndpointStartsFromNowUnlessToldToStartFromTheOldestEvent() throws Exception {
        Receiver now = receiver();
        Receiver earliest = receiver();
        RegistryEvent before = event("team-a/app", "push", "io.berth.manifest.pushed", "v1");
        publish(before); // history: on the topic before the relay ever ran
        try (JavaProcess relay = startRelay("""
                    - name: now
                      url: %s
                    - name: earliest
                      url: %s
                      start-from: earliest
                """.formatted(now.url(), earliest.url()))) {
            RegistryEvent after = event("team-a/app", "push", "io.berth.tag.created", "v1");
            publish(after);
            await(
                    "the event after the start at both",
                    () -> ids(now).contains(after.id()) && ids(earliest).contains(after.id()),
                    Duration.ofSeconds(60));
            assertEquals(List.of(before.id(), after.id()), ids(earliest), "earliest: the whole topic, in order");
            assertEquals(List.of(after.id()), ids(now), "now (the default): nothing from before the relay started");
            // what the Distribution envelope cannot say, a header does
            var headers = (Headers) now.got.peek().get("headers");
            assertEquals("io.berth.tag.created", headers.getFirst("X-Berth-Event-Type"));
            relay.process().destroy();
            assertTrue(relay.process().waitFor(30, TimeUnit.SECONDS));
        }
        // started again, "now" has its position: what was published while it was away still comes
        RegistryEvent whileAway = event("team-a/app", "delete", "io.berth.tag.deleted", "v1");
        publish(whileAway);
        try (JavaProcess again = startRelay("    - name: now\n      url: " + now.url() + "\n")) {
            await(
                    "the event published while the relay was stopped",
                    () -> ids(now).contains(whileAway.id()),
                    Duration.ofSeconds(60));
            again.process().destroy();
        }
    }

    @Test
    void waitingForAnOpenCircuitIsNoAttemptSoAnOutageDoesNotDeadLetterAnEventTriedOnce() throws Exception {
        Receiver receiver = receiver();
        AtomicInteger calls = new AtomicInteger();
        receiver.status = () -> calls.incrementAndGet() <= 5 ? 503 : 200; // the fifth failure opens the circuit
        RegistryEvent e = event("team-a/app", "push", "io.berth.manifest.pushed", "v1");
        long t0 = System.nanoTime();
        try (JavaProcess relay =
                startRelay("    - name: r\n      url: " + receiver.url() + "\n      max-attempts: 6\n")) {
            publish(e);
            await(
                    "the delivery or its dead letter",
                    () -> ids(receiver).contains(e.id()) || relay.output().contains("dead-lettered"),
                    Duration.ofSeconds(90));
            System.out.printf(
                    "delivered after %d requests in %.1f s (the circuit open for 10 s of it)%n",
                    receiver.calls.get(), (System.nanoTime() - t0) / 1e9);
            assertTrue(ids(receiver).contains(e.id()), "delivered, not dead-lettered: " + relay.output());
            assertEquals(6, receiver.calls.get(), "six real requests: the time the circuit was open took none");
            relay.process().destroy();
            assertTrue(relay.process().waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void stoppingMidDeliveryAndIdleLogsNoErrors() throws Exception {
        Receiver hanging = receiver();
        hanging.hold = new CountDownLatch(1);
        Receiver idle = receiver();
        try (JavaProcess relay = startRelay("""
                    - name: hanging
                      url: %s
                      timeout: 60s
                    - name: idle
                      url: %s
                      actions: [delete]
                """.formatted(hanging.url(), idle.url()))) {
            publish(event("team-a/app", "push", "io.berth.manifest.pushed", "v1"));
            await("a delivery in flight", () -> hanging.inProgress.get() == 1, Duration.ofSeconds(60));
            relay.process().destroy(); // SIGTERM
            assertTrue(relay.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, relay.process().exitValue(), relay.output());
            String out = relay.output();
            assertTrue(out.contains("stopped"), out);
            assertTrue(
                    out.lines()
                            .noneMatch(l -> l.contains(" ERROR ")
                                    || l.startsWith("\tat ")
                                    || l.startsWith("Exception in thread")),
                    "no errors or stack traces on an ordinary stop:\n" + out);
        }
    }

    @Test
    void aBadConfigurationIsOneLineAndExitCode2() throws Exception {
        Path config = Files.writeString(
                dir.resolve("bad.yaml"),
                "webhooks:\n  kafka: { bootstrap-servers: x:1 }\n"
                        + "  endpoints:\n    - name: a\n      url: ftp://nope\n");
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of(),
                List.of("webhooks", "--config", config.toString()),
                Map.of(),
                dir,
                dir.resolve("bad.log"));
        assertTrue(p.process().waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.process().exitValue(), p.output());
        assertTrue(p.output().contains("webhooks.endpoints[0].url 'ftp://nope' is not an http(s) URL"), p.output());
        assertEquals(1, p.output().strip().lines().count(), p.output());
        // a misspelt key is a mistake too, not a filter silently dropped
        Path misspelt = Files.writeString(
                dir.resolve("misspelt.yaml"),
                "webhooks:\n  kafka: { bootstrap-servers: x:1 }\n"
                        + "  endpoints:\n    - name: a\n      url: http://127.0.0.1:1/hook\n      repository: [team-a/**]\n");
        JavaProcess q = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of(),
                List.of("webhooks", "--config", misspelt.toString()),
                Map.of(),
                dir,
                dir.resolve("misspelt.log"));
        assertTrue(q.process().waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, q.process().exitValue(), q.output());
        assertTrue(
                q.output()
                        .contains(
                                "webhooks.endpoints[0].repository is not a known key: did you mean " + "repositories?"),
                q.output());
        assertEquals(1, q.output().strip().lines().count(), q.output());
    }

    @Test
    void anUnusableKafkaAddressOrATakenPortIsOneLine() throws Exception {
        Path unresolvable = Files.writeString(
                dir.resolve("dns.yaml"),
                "webhooks:\n"
                        + "  kafka: { bootstrap-servers: 'no-such-host.invalid:9092' }\n"
                        + "  endpoints:\n    - name: a\n      url: http://127.0.0.1:1/hook\n");
        JavaProcess p = JavaProcess.start(
                "io.berth.launcher.Main",
                List.of(),
                List.of("webhooks", "--config", unresolvable.toString()),
                Map.of(),
                dir,
                dir.resolve("dns.log"));
        assertTrue(p.process().waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.process().exitValue(), p.output());
        assertTrue(
                p.output().contains("webhooks.kafka.bootstrap-servers 'no-such-host.invalid:9092' cannot be used"),
                p.output());
        assertTrue(!p.output().contains("\tat "), "no stack trace: " + p.output());

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Path busy = Files.writeString(
                    dir.resolve("port.yaml"),
                    "webhooks:\n"
                            + "  kafka: { bootstrap-servers: '127.0.0.1:1' }\n  http-port: " + taken.getLocalPort()
                            + "\n"
                            + "  endpoints:\n    - name: a\n      url: http://127.0.0.1:1/hook\n");
            JavaProcess q = JavaProcess.start(
                    "io.berth.launcher.Main",
                    List.of(),
                    List.of("webhooks", "--config", busy.toString()),
                    Map.of(),
                    dir,
                    dir.resolve("port.log"));
            assertTrue(q.process().waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, q.process().exitValue(), q.output());
            assertTrue(
                    q.output()
                            .contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()
                                    + " (webhooks.http-port): address already in use"),
                    q.output());
        }
    }

    /** The relay's /healthz port, from its start-up line. */
    static int healthPort(JavaProcess relay) {
        Matcher m = Pattern.compile("/metrics on http://[^:]+:(\\d+)").matcher(relay.output());
        assertTrue(m.find(), relay.output());
        return Integer.parseInt(m.group(1));
    }

    static String get(String url) throws Exception {
        try (HttpClient c = HttpClient.newHttpClient()) {
            return c.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                    .body();
        }
    }

    @Test
    void aReceiverTricklingItsAnswerIsCutAtTheTimeoutDeadLetteredAndShownInHealthz() throws Exception {
        // a receiver that reads the request, answers 200 with a body of a megabyte, and sends a byte a second
        ServerSocket hostile = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicInteger requests = new AtomicInteger();
        ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
        Thread.ofVirtual().start(() -> {
            while (!hostile.isClosed()) {
                try {
                    Socket s = hostile.accept();
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            InputStream in = s.getInputStream();
                            String head = "";
                            while (!head.endsWith("\r\n\r\n")) {
                                int c = in.read();
                                if (c < 0) {
                                    return;
                                }
                                head += (char) c;
                            }
                            Matcher m = Pattern.compile("(?i)content-length: *(\\d+)")
                                    .matcher(head);
                            in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
                            requests.incrementAndGet();
                            arrivals.add(System.nanoTime());
                            OutputStream out = s.getOutputStream();
                            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
                                    .getBytes(StandardCharsets.US_ASCII));
                            for (int i = 0; i < 1_000_000; i++) {
                                out.write('x');
                                out.flush();
                                Thread.sleep(1000);
                            }
                        } catch (IOException | InterruptedException e) {
                            // the relay hung up
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        RegistryEvent[] events = new RegistryEvent[5];
        for (int i = 0; i < events.length; i++) {
            events[i] = event("team-a/app", "push", "io.berth.manifest.pushed", "v" + i);
        }
        long t0 = System.nanoTime();
        try (hostile;
                JavaProcess relay = startRelay("    - name: slow\n      url: http://127.0.0.1:" + hostile.getLocalPort()
                        + "/hook\n      timeout: 1s\n      max-attempts: 1\n")) {
            publish(events);
            await(
                    "the five events dead-lettered",
                    () -> relay.output().split("dead-lettered", -1).length - 1 == events.length,
                    Duration.ofSeconds(90));
            List<Long> at = List.copyOf(arrivals);
            System.out.printf(
                    "trickling receiver (1 byte/s, timeout 1s, max-attempts 1): 5 events dead-lettered "
                            + "%.1f s after publishing; requests %.1f s apart on average (each cut at the timeout)%n",
                    (System.nanoTime() - t0) / 1e9, (at.get(at.size() - 1) - at.get(0)) / 1e9 / (at.size() - 1));
            try (TopicReader dlq = new TopicReader(KafkaBroker.shared().bootstrapServers(), topic + ".dlq")) {
                List<ConsumerRecord<String, byte[]>> dead =
                        dlq.until(l -> l.size() == events.length, Duration.ofSeconds(60));
                assertEquals(events.length, dead.size(), "all five on the dead-letter topic");
                assertEquals(
                        "no complete answer within 1s",
                        new String(
                                dead.get(0).headers().lastHeader("berth-error").value(), StandardCharsets.UTF_8));
            }
            String health = get("http://127.0.0.1:" + healthPort(relay) + "/healthz");
            assertTrue(health.contains("status: degraded"), health);
            assertTrue(health.contains("last error: no complete answer within 1s"), health);
            assertEquals(events.length, requests.get());
        }
    }
}
