package io.berth.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.core.model.Digest;
import io.berth.core.model.DigestAlgorithm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes small OCI image layouts (single image, two-platform index) for skopeo to copy. */
public final class OciLayouts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciLayouts() {}

    record Written(Digest digest, long size, String mediaType) {}

    private static Written blob(Path layout, byte[] content, String mediaType) throws IOException {
        Digest d = Digest.compute(DigestAlgorithm.SHA256, content);
        Path p = layout.resolve("blobs/sha256/" + d.hex());
        Files.createDirectories(p.getParent());
        Files.write(p, content);
        return new Written(d, content.length, mediaType);
    }

    private static Map<String, Object> descriptor(Written w) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", w.mediaType());
        d.put("digest", w.digest().toString());
        d.put("size", w.size());
        return d;
    }

    /** One single-file tar layer. */
    static byte[] tar(String name, String content) {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        byte[] header = new byte[512];
        put(header, 0, name);
        put(header, 100, "0000644");
        put(header, 108, "0000000");
        put(header, 116, "0000000");
        put(header, 124, String.format("%011o", data.length));
        put(header, 136, String.format("%011o", 0));
        header[156] = '0';
        put(header, 257, "ustar");
        put(header, 263, "00");
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        int sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, String.format("%06o", sum));
        header[154] = 0;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void put(byte[] header, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, header, at, b.length);
    }

    private static Written image(Path layout, String arch, String seed) throws IOException {
        Written layer = blob(
                layout, tar("greeting", "hello " + seed + " " + arch + "\n"), "application/vnd.oci.image.layer.v1.tar");
        Digest diffId = layer.digest();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", arch);
        config.put("os", "linux");
        config.put("rootfs", Map.of("type", "layers", "diff_ids", List.of(diffId.toString())));
        config.put("config", Map.of());
        Written cfg = blob(layout, JSON.writeValueAsBytes(config), "application/vnd.oci.image.config.v1+json");
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.put("config", descriptor(cfg));
        manifest.put("layers", List.of(descriptor(layer)));
        return blob(layout, JSON.writeValueAsBytes(manifest), "application/vnd.oci.image.manifest.v1+json");
    }

    private static void finish(Path layout, Written top, String tag, Map<String, Object> extra) throws IOException {
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Map<String, Object> d = descriptor(top);
        d.putAll(extra);
        d.put("annotations", Map.of("org.opencontainers.image.ref.name", tag));
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(d));
        Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(index));
    }

    public static Path singleImage(Path layout, String tag, String arch, String seed) throws IOException {
        Written m = image(layout, arch, seed);
        finish(layout, m, tag, Map.of("platform", Map.of("architecture", arch, "os", "linux")));
        return layout;
    }

    public static Path twoPlatformIndex(Path layout, String tag) throws IOException {
        Written amd = image(layout, "amd64", tag);
        Written arm = image(layout, "arm64", tag);
        Map<String, Object> a = descriptor(amd);
        a.put("platform", Map.of("architecture", "amd64", "os", "linux"));
        Map<String, Object> b = descriptor(arm);
        b.put("platform", Map.of("architecture", "arm64", "os", "linux"));
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(a, b));
        Written top = blob(layout, JSON.writeValueAsBytes(index), "application/vnd.oci.image.index.v1+json");
        finish(layout, top, tag, Map.of());
        return layout;
    }
}
