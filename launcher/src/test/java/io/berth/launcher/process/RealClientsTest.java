package io.berth.launcher.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import io.berth.http.OciLayouts;
import io.berth.testsupport.Command;
import io.berth.testsupport.Containerd;
import io.berth.testsupport.Dockerd;
import io.berth.testsupport.TestServices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/** Real clients against {@code berth serve}: docker, Testcontainers, skopeo, Jib. */
@Tag("process")
class RealClientsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;

    static BerthProcess berth;
    static String registry;

    @BeforeAll
    static void start() {
        // defaults: blobs over 64 KiB go to every client here with sendfile (http.sendfile)
        berth = BerthProcess.start(dir.resolve("berth"), List.of(), Map.of());
        registry = "127.0.0.1:" + berth.httpPort;
    }

    @AfterAll
    static void stop() {
        berth.close();
    }

    static Dockerd docker() {
        var d = Dockerd.shared();
        TestServices.require(d.isPresent(), "dockerd (Debian package docker.io)");
        return d.get();
    }

    static void ok(Command r) {
        assertEquals(0, r.exitCode(), r.output());
    }

    static Command run(String... cmd) {
        return Command.run(cmd);
    }

    /** A root filesystem tarball holding busybox and a file to read back. */
    static Path rootfs(String greeting) throws IOException {
        Path root = Files.createTempDirectory(dir, "rootfs");
        Files.createDirectories(root.resolve("bin"));
        Path busybox = Path.of("/bin/busybox");
        TestServices.require(Files.isExecutable(busybox), "busybox (Debian package busybox-static)");
        Files.copy(busybox, root.resolve("bin/busybox"));
        root.resolve("bin/busybox").toFile().setExecutable(true);
        Files.writeString(root.resolve("greeting"), greeting);
        Path tar = dir.resolve("rootfs-" + System.nanoTime() + ".tar");
        ok(run("tar", "-C", root.toString(), "-cf", tar.toString(), "."));
        return tar;
    }

    /** {@code berth_blob_sent_bytes_total{path="sendfile"}} now. */
    static double sendfileBytes() throws Exception {
        return metric("berth_blob_sent_bytes_total", "sendfile");
    }

    /** The value of {@code name{path="..."}} in {@code /metrics} now. */
    static double metric(String name, String path) throws Exception {
        String metrics = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://" + registry + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^" + name + "\\{path=\"" + path + "\"\\} (\\S+)$")
                .matcher(metrics);
        assertTrue(m.find(), metrics);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void dockerPushPullRunAndTestcontainers() throws Exception {
        Dockerd docker = docker();
        String image = registry + "/demo/busybox:1";
        ok(docker.docker("import", rootfs("hello from berth\n").toString(), image));
        double fromSocket = metric("berth_upload_received_bytes_total", "socket");
        ok(docker.docker("push", image));
        assertTrue(
                metric("berth_upload_received_bytes_total", "socket") > fromSocket + 64 * 1024,
                "docker's chunked layer upload was read from the socket (http.socket-reads)");
        ok(docker.docker("rmi", image));
        double zeroCopied = sendfileBytes();
        ok(docker.docker("pull", image));
        assertTrue(sendfileBytes() > zeroCopied + 64 * 1024, "docker's layer pull went out with sendfile");
        Command out = docker.docker("run", "--rm", "--network", "none", image, "/bin/busybox", "cat", "/greeting");
        ok(out);
        assertEquals("hello from berth", out.output().strip());
        ok(docker.docker("rmi", image));

        // Testcontainers, driving the same daemon, starts a container from an image Berth serves
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("none")
                .withCommand("/bin/busybox", "sleep", "60")) {
            c.start();
            Container.ExecResult cat = c.execInContainer("/bin/busybox", "cat", "/greeting");
            assertEquals("hello from berth", cat.getStdout().strip());
        }
    }

    static void requireSkopeo() {
        TestServices.require(Command.onPath("skopeo"), "skopeo (Debian package skopeo)");
    }

    static Command skopeo(String... args) {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        return Command.run(cmd, Map.of(), 600);
    }

    @Test
    void skopeoCopiesInAndOutInspectsListsAndDeletes() throws Exception {
        requireSkopeo();
        Path layout = OciLayouts.singleImage(dir.resolve("single-layout"), "v1", "amd64", "single");
        ok(skopeo("copy", "--dest-tls-verify=false", "oci:" + layout + ":v1", "docker://" + registry + "/sk/app:v1"));
        Command inspect = skopeo("inspect", "--tls-verify=false", "docker://" + registry + "/sk/app:v1");
        ok(inspect);
        JsonNode info = JSON.readTree(inspect.output());
        assertEquals("amd64", info.get("Architecture").asText());
        assertTrue(info.get("RepoTags").toString().contains("v1"));

        Path out = dir.resolve("copied-out");
        ok(skopeo("copy", "--src-tls-verify=false", "docker://" + registry + "/sk/app:v1", "oci:" + out + ":v1"));
        JsonNode outIndex = JSON.readTree(Files.readString(out.resolve("index.json")));
        // skopeo may recompress layers on the way in, so compare with what Berth holds
        assertEquals(
                info.get("Digest").asText(),
                outIndex.get("manifests").get(0).get("digest").asText(),
                "the manifest copied out is the one Berth serves");
        assertEquals(info.get("Digest").asText(), servedDigest("/v2/sk/app/manifests/v1"));

        ok(skopeo(
                "copy",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                "docker://" + registry + "/sk/app:v1",
                "docker://" + registry + "/sk/app:v2"));
        Command tags = skopeo("list-tags", "--tls-verify=false", "docker://" + registry + "/sk/app");
        ok(tags);
        assertEquals(
                List.of("v1", "v2"),
                RealClientsTest.strings(JSON.readTree(tags.output()).get("Tags")));
        ok(skopeo("delete", "--tls-verify=false", "docker://" + registry + "/sk/app:v1"));
        Command after = skopeo("list-tags", "--tls-verify=false", "docker://" + registry + "/sk/app");
        ok(after);
        assertTrue(
                RealClientsTest.strings(JSON.readTree(after.output()).get("Tags"))
                        .isEmpty(),
                "deleting by digest removes every tag on it");
    }

    @Test
    void skopeoCopyAllOfATwoPlatformIndex() throws Exception {
        requireSkopeo();
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("multi-layout"), "multi");
        ok(skopeo(
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "oci:" + layout + ":multi",
                "docker://" + registry + "/sk/multi:1"));
        Command raw = skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + registry + "/sk/multi:1");
        ok(raw);
        JsonNode index = JSON.readTree(raw.output());
        assertEquals(2, index.get("manifests").size());
        for (String arch : List.of("amd64", "arm64")) {
            Command one = skopeo(
                    "inspect", "--tls-verify=false", "--override-arch", arch, "docker://" + registry + "/sk/multi:1");
            ok(one);
            assertEquals(arch, JSON.readTree(one.output()).get("Architecture").asText());
        }
        Path out = dir.resolve("multi-out");
        ok(skopeo(
                "copy",
                "--all",
                "--src-tls-verify=false",
                "docker://" + registry + "/sk/multi:1",
                "oci:" + out + ":multi"));
        JsonNode outTop = JSON.readTree(Files.readString(out.resolve("index.json")));
        assertEquals(
                servedDigest("/v2/sk/multi/manifests/1"),
                outTop.get("manifests").get(0).get("digest").asText());
        assertEquals(
                "application/vnd.oci.image.index.v1+json",
                outTop.get("manifests").get(0).get("mediaType").asText());
        for (JsonNode child : index.get("manifests")) {
            String hex = child.get("digest").asText().substring("sha256:".length());
            assertTrue(Files.exists(out.resolve("blobs/sha256/" + hex)), "child manifest copied out");
        }
    }

    @Test
    void containerdPullsAndPushesAMultiPlatformIndex() throws Exception {
        requireSkopeo();
        var containerd = Containerd.shared();
        TestServices.require(containerd.isPresent(), "containerd (Debian package containerd)");
        Path layout = OciLayouts.twoPlatformIndex(dir.resolve("ctr-layout"), "multi");
        ok(skopeo(
                "copy",
                "--all",
                "--dest-tls-verify=false",
                "oci:" + layout + ":multi",
                "docker://" + registry + "/ctr/source:1"));
        String source = registry + "/ctr/source:1";
        String copy = registry + "/ctr/copy:1";
        // ctr probes every blob and manifest with HEAD before pushing, on keep-alive connections: a HEAD
        // answer carrying bytes shows up here as "Unsolicited response" or a malformed status line
        Command pull = containerd.get().ctr("images", "pull", "--plain-http", "--all-platforms", source);
        ok(pull);
        ok(containerd.get().ctr("images", "tag", "--force", source, copy));
        Command push = containerd.get().ctr("images", "push", "--plain-http", copy);
        ok(push);
        Command again = containerd.get().ctr("images", "push", "--plain-http", copy);
        ok(again);
        for (Command c : List.of(pull, push, again)) {
            assertFalse(c.output().contains("Unsolicited") || c.output().contains("malformed"), c.output());
        }
        assertEquals(servedDigest("/v2/ctr/source/manifests/1"), servedDigest("/v2/ctr/copy/manifests/1"));
    }

    @Test
    void jibPushesAnImageAndBerthServesItBack() throws Exception {
        Path file = dir.resolve("jib-greeting.txt");
        Files.writeString(file, "built by jib");
        JibContainer pushed = Jib.fromScratch()
                .addFileEntriesLayer(FileEntriesLayer.builder()
                        .addEntry(file, AbsoluteUnixPath.get("/greeting.txt"))
                        .build())
                .setEntrypoint("/bin/true")
                .containerize(Containerizer.to(RegistryImage.named(registry + "/jib/app:1"))
                        .setAllowInsecureRegistries(true));
        String digest = pushed.getDigest().toString();
        HttpResponse<byte[]> manifest = HTTP.send(
                HttpRequest.newBuilder(URI.create(berth.base() + "/v2/jib/app/manifests/1"))
                        .header(
                                "Accept",
                                "application/vnd.docker.distribution.manifest.v2+json,"
                                        + "application/vnd.oci.image.manifest.v1+json")
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, manifest.statusCode());
        assertEquals(
                digest, manifest.headers().firstValue("Docker-Content-Digest").orElseThrow());
        assertEquals(
                digest, Digest.compute(DigestAlgorithm.SHA256, manifest.body()).toString());
        JsonNode m = JSON.readTree(manifest.body());
        for (JsonNode layer : m.get("layers")) {
            HttpResponse<byte[]> blob = HTTP.send(
                    HttpRequest.newBuilder(URI.create(berth.base() + "/v2/jib/app/blobs/"
                                    + layer.get("digest").asText()))
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, blob.statusCode());
            assertEquals(
                    layer.get("digest").asText(),
                    Digest.compute(DigestAlgorithm.SHA256, blob.body()).toString());
            assertEquals(layer.get("size").asLong(), blob.body().length);
        }
        assertFalse(new String(manifest.body(), StandardCharsets.UTF_8).isEmpty());
    }

    /** The Docker-Content-Digest Berth answers for a manifest path (HEAD). */
    static String servedDigest(String path) throws IOException, InterruptedException {
        HttpResponse<Void> head = HTTP.send(
                HttpRequest.newBuilder(URI.create(berth.base() + path))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
        return head.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
