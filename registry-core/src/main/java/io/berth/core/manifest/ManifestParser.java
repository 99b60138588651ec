package io.berth.core.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.berth.core.model.Descriptor;
import io.berth.core.model.Digest;
import io.berth.core.model.MediaTypes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Validates manifest payloads (Docker schema 2, Docker manifest list, OCI image manifest, OCI image
 * index) and extracts their references. Every defect is {@link ErrorCode#MANIFEST_INVALID} with a
 * detail saying what is wrong.
 */
public final class ManifestParser {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private ManifestParser() {
    }

    /**
     * @param contentType the request's Content-Type (may be null or blank)
     * @param payload     the exact bytes pushed
     */
    public static ParsedManifest parse(String contentType, byte[] payload) {
        JsonNode root;
        try {
            root = JSON.readTree(payload);
        } catch (IOException e) {
            throw invalid("manifest is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw invalid("manifest must be a JSON object");
        }
        JsonNode schemaVersion = root.get("schemaVersion");
        if (schemaVersion == null || !schemaVersion.isIntegralNumber() || schemaVersion.asInt() != 2) {
            throw invalid("schemaVersion must be 2");
        }
        String declared = optionalText(root, "mediaType");
        String header = MediaTypes.essence(contentType);
        if (header != null && header.isEmpty()) {
            header = null;
        }
        String mediaType;
        if (declared != null && header != null && !declared.equals(header)) {
            throw invalid("Content-Type " + header + " does not match the manifest's mediaType " + declared);
        }
        mediaType = declared != null ? declared : header != null ? header : guess(root);
        if (mediaType == null || !MediaTypes.isManifest(mediaType)) {
            throw invalid("unsupported manifest media type " + mediaType);
        }
        Optional<Digest> subject = Optional.empty();
        if (root.has("subject") && !root.get("subject").isNull()) {
            subject = Optional.of(descriptor(root.get("subject"), "subject").digest());
        }
        String artifactType = optionalText(root, "artifactType");
        Map<String, String> annotations = annotations(root.get("annotations"), "annotations");
        if (MediaTypes.IMAGE_MANIFESTS.contains(mediaType)) {
            JsonNode configNode = root.get("config");
            if (configNode == null) {
                throw invalid("image manifest has no config");
            }
            Descriptor config = descriptor(configNode, "config");
            JsonNode layersNode = root.get("layers");
            if (layersNode == null || !layersNode.isArray()) {
                throw invalid("image manifest has no layers array");
            }
            List<Descriptor> blobs = new ArrayList<>();
            blobs.add(config);
            int i = 0;
            for (JsonNode layer : layersNode) {
                blobs.add(descriptor(layer, "layers[" + i++ + "]"));
            }
            if (root.has("manifests")) {
                throw invalid("an image manifest cannot list manifests");
            }
            String type = artifactType != null ? artifactType : config.mediaType();
            return new ParsedManifest(mediaType, blobs, List.of(), subject, type, annotations);
        }
        JsonNode manifestsNode = root.get("manifests");
        if (manifestsNode == null || !manifestsNode.isArray()) {
            throw invalid("index has no manifests array");
        }
        if (root.has("layers") || root.has("config")) {
            throw invalid("an index cannot have config or layers");
        }
        List<Descriptor> children = new ArrayList<>();
        int i = 0;
        for (JsonNode child : manifestsNode) {
            children.add(descriptor(child, "manifests[" + i++ + "]"));
        }
        return new ParsedManifest(mediaType, List.of(), children, subject, artifactType, annotations);
    }

    private static String guess(JsonNode root) {
        if (root.has("manifests")) {
            return MediaTypes.OCI_INDEX;
        }
        if (root.has("config")) {
            return MediaTypes.OCI_MANIFEST;
        }
        return null;
    }

    private static Descriptor descriptor(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw invalid(where, "must be a descriptor object");
        }
        String mediaType = optionalText(node, "mediaType");
        if (mediaType == null || mediaType.isBlank()) {
            throw invalid(where + ".mediaType", "is missing");
        }
        String digestText = optionalText(node, "digest");
        if (digestText == null) {
            throw invalid(where + ".digest", "is missing");
        }
        Digest digest;
        try {
            digest = Digest.parse(digestText);
        } catch (RegistryException e) {
            throw invalid(where + ".digest", "is not a valid digest");
        }
        JsonNode size = node.get("size");
        if (size == null || !size.isIntegralNumber() || !size.canConvertToLong() || size.asLong() < 0) {
            throw invalid(where + ".size", "must be a non-negative integer");
        }
        List<String> urls = new ArrayList<>();
        JsonNode urlsNode = node.get("urls");
        if (urlsNode != null && !urlsNode.isNull()) {
            if (!urlsNode.isArray()) {
                throw invalid(where + ".urls", "must be an array");
            }
            for (JsonNode u : urlsNode) {
                if (!u.isTextual()) {
                    throw invalid(where + ".urls", "must hold strings");
                }
                urls.add(u.asText());
            }
        }
        return new Descriptor(mediaType, digest, size.asLong(), optionalText(node, "artifactType"),
                annotations(node.get("annotations"), where + ".annotations"), urls);
    }

    private static Map<String, String> annotations(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw invalid(where, "must be an object of strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw invalid(where + "." + e.getKey(), "must be a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw invalid(field, "must be a string");
        }
        return v.asText();
    }

    private static RegistryException invalid(String why) {
        return new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest invalid: " + why, Map.of());
    }

    /** A defect of one field: the detail names the field (data, not the message again). */
    private static RegistryException invalid(String field, String why) {
        return new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest invalid: " + field + " " + why,
                Map.of("field", field));
    }
}
