package io.berth.testsupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Proves the shared test services are real and usable: Kafka, S3, dockerd. */
@Tag("services")
class TestSupportTest {

    @Test
    void kafkaBrokerProducesAndConsumes() throws Exception {
        String bootstrap = KafkaBroker.shared().bootstrapServers();
        String topic = "berth-test-" + System.nanoTime();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            RecordMetadata md = producer.send(new ProducerRecord<>(topic, "demo/app", "pushed"))
                    .get();
            assertEquals(0, md.offset());
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "berth-test");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            ConsumerRecord<String, String> got = null;
            long deadline = System.currentTimeMillis() + 60_000;
            while (got == null && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    got = r;
                }
            }
            assertTrue(got != null, "record consumed");
            assertEquals("demo/app", got.key());
            assertEquals("pushed", got.value());
        }
    }

    @Test
    void s3EndpointStoresAndReturnsObjects() throws Exception {
        S3Endpoint s3 = S3Endpoint.shared();
        MinioClient minio = MinioClient.builder()
                .endpoint(s3.endpoint())
                .credentials(s3.accessKey(), s3.secretKey())
                .build();
        String bucket = "berth-test-" + System.nanoTime();
        minio.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        assertTrue(minio.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()));
        byte[] content = "layer bytes".getBytes(StandardCharsets.UTF_8);
        minio.putObject(PutObjectArgs.builder().bucket(bucket).object("blobs/a").stream(
                        new ByteArrayInputStream(content), (long) content.length, -1L)
                .build());
        assertEquals(
                content.length,
                minio.statObject(StatObjectArgs.builder()
                                .bucket(bucket)
                                .object("blobs/a")
                                .build())
                        .size());
        try (InputStream in = minio.getObject(
                GetObjectArgs.builder().bucket(bucket).object("blobs/a").build())) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    @Test
    void dockerdAnswers() {
        var docker = Dockerd.shared();
        TestServices.require(docker.isPresent(), "dockerd (Debian package docker.io)");
        Command version = docker.get().docker("version", "--format", "{{.Server.Version}}");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().strip().matches("\\d+\\.\\d+.*"), version.output());
    }

    /**
     * The class path other modules' tests start S3Proxy and Kafka on (their own lacks both): it is in
     * test-support's jar, it names the servers' jars, and each of its entries is there.
     */
    @Test
    void theServersClassPathHoldsS3ProxyAndKafka() {
        List<String> entries = List.of(JavaProcess.serversClassPath().split(File.pathSeparator));
        for (String jar : List.of("s3proxy-", "kafka_2.13-", "kafka-server-")) {
            assertTrue(
                    entries.stream()
                            .anyMatch(e -> Path.of(e).getFileName().toString().startsWith(jar)),
                    jar + " in " + entries);
        }
        for (String entry : entries) {
            assertTrue(Files.exists(Path.of(entry)), entry);
        }
    }
}
