package io.berth.core.manifest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
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
 *
 * <p>The payload is read once as a stream of JSON tokens and no tree is built: a tree costs tens of
 * bytes per element, so 4 MiB of {@code {}} took about 100 MB before any check. Only what the
 * registry keeps is retained (the descriptors of config, layers and child manifests, the subject,
 * the manifest's own annotations, media and artifact types); everything else is checked — valid JSON,
 * no duplicate key — and passed over without being kept. What a payload can make the parse hold is
 * bounded whatever it contains: {@link #MAX_DEPTH} levels of nesting, {@link #MAX_OPEN_MEMBERS}
 * members in the objects open at any point (duplicate detection holds their names), at most
 * {@code maxReferences} descriptors of config, layers and manifests (counted as they are read, so an
 * oversized list is refused at its limit), and {@link #MAX_URLS} URLs.
 */
public final class ManifestParser {
    /** Deepest nesting accepted; a manifest needs five levels (index, manifests, descriptor, platform, features). */
    public static final int MAX_DEPTH = 64;
    /** Most members of the objects open at once: an object's, plus those of the objects it sits in. */
    public static final int MAX_OPEN_MEMBERS = 4096;
    /** Most {@code urls} entries over all descriptors of a manifest. */
    public static final int MAX_URLS = 4096;

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // no table of field names that grows with the distinct keys a payload invents
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();

    private ManifestParser() {}

    /**
     * @param contentType the request's Content-Type (may be null or blank)
     * @param payload     the exact bytes pushed
     */
    public static ParsedManifest parse(String contentType, byte[] payload) {
        return parse(contentType, payload, Integer.MAX_VALUE);
    }

    /**
     * As {@link #parse(String, byte[])}, refusing a manifest with more than {@code maxReferences}
     * descriptors of config, layers and child manifests as soon as the parse reaches the one too many.
     */
    public static ParsedManifest parse(String contentType, byte[] payload, int maxReferences) {
        Root root;
        try (JsonParser p = JSON.createParser(payload)) {
            root = new Reader(p, maxReferences).root();
        } catch (StreamConstraintsException e) {
            throw limit(
                    e.getMessage() != null && e.getMessage().contains("nesting")
                            ? "manifest invalid: nested deeper than " + MAX_DEPTH + " levels"
                            : "manifest invalid: a number, string or key is longer than the parser accepts",
                    "depth",
                    MAX_DEPTH);
        } catch (IOException e) {
            throw invalid("manifest is not valid JSON");
        }
        return root.validate(contentType);
    }

    /** A value read from the payload, or why it cannot be used (reported in the order the checks run). */
    private record Got<T>(T value, RegistryException error) {
        static <T> Got<T> of(T value) {
            return new Got<>(value, null);
        }

        static <T> Got<T> failed(RegistryException error) {
            return new Got<>(null, error);
        }

        T get() {
            if (error != null) {
                throw error;
            }
            return value;
        }
    }

    /** What the top-level object holds; absent members are null. */
    private static final class Root {
        Got<Boolean> schemaVersion;
        Got<String> mediaType;
        Got<String> artifactType;
        Got<Descriptor> subject; // null also when the member is JSON null
        Got<Map<String, String>> annotations;
        Got<Descriptor> config;
        boolean hasConfig;
        Got<List<Descriptor>> layers;
        boolean hasLayers;
        Got<List<Descriptor>> manifests;
        boolean hasManifests;

        ParsedManifest validate(String contentType) {
            if (schemaVersion == null || !schemaVersion.get()) {
                throw invalid("schemaVersion must be 2");
            }
            String declared = mediaType == null ? null : mediaType.get();
            String header = MediaTypes.essence(contentType);
            if (header != null && header.isEmpty()) {
                header = null;
            }
            if (declared != null && header != null && !declared.equals(header)) {
                throw invalid("Content-Type " + header + " does not match the manifest's mediaType " + declared);
            }
            String type = declared != null ? declared : header != null ? header : guess();
            if (type == null || !MediaTypes.isManifest(type)) {
                throw invalid("unsupported manifest media type " + type);
            }
            Optional<Digest> subjectDigest = subject == null
                    ? Optional.empty()
                    : Optional.of(subject.get().digest());
            String artifact = artifactType == null ? null : artifactType.get();
            Map<String, String> own = annotations == null ? Map.of() : annotations.get();
            if (MediaTypes.IMAGE_MANIFESTS.contains(type)) {
                if (!hasConfig) {
                    throw invalid("image manifest has no config");
                }
                Descriptor configDescriptor = config.get();
                if (layers == null) {
                    throw invalid("image manifest has no layers array");
                }
                List<Descriptor> blobs = new ArrayList<>();
                blobs.add(configDescriptor);
                blobs.addAll(layers.get());
                if (hasManifests) {
                    throw invalid("an image manifest cannot list manifests");
                }
                return new ParsedManifest(
                        type,
                        blobs,
                        List.of(),
                        subjectDigest,
                        artifact != null ? artifact : configDescriptor.mediaType(),
                        own);
            }
            if (manifests == null) {
                throw invalid("index has no manifests array");
            }
            if (hasLayers || hasConfig) {
                throw invalid("an index cannot have config or layers");
            }
            return new ParsedManifest(type, List.of(), manifests.get(), subjectDigest, artifact, own);
        }

        private String guess() {
            if (hasManifests) {
                return MediaTypes.OCI_INDEX;
            }
            if (hasConfig) {
                return MediaTypes.OCI_MANIFEST;
            }
            return null;
        }
    }

    /** One pass over the tokens, counting what the limits bound. */
    private static final class Reader {
        private final JsonParser p;
        private final int maxReferences;
        /** Members of each open object, by depth (arrays count none). */
        private final int[] members = new int[MAX_DEPTH + 2];

        private int depth;
        private int openMembers;
        private int references;
        private int urls;

        Reader(JsonParser p, int maxReferences) {
            this.p = p;
            this.maxReferences = maxReferences;
        }

        private JsonToken next() throws IOException {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new JsonEOFException(p, null, "unexpected end of input");
            }
            switch (t) {
                case START_OBJECT, START_ARRAY -> members[++depth] = 0;
                case END_OBJECT, END_ARRAY -> openMembers -= members[depth--];
                case FIELD_NAME -> {
                    members[depth]++;
                    if (++openMembers > MAX_OPEN_MEMBERS) {
                        throw limit(
                                "manifest invalid: more than " + MAX_OPEN_MEMBERS + " members in an object and "
                                        + "the objects it is nested in",
                                "members",
                                MAX_OPEN_MEMBERS);
                    }
                }
                default -> {}
            }
            return t;
        }

        /** Passes over the value that begins with {@code t} (nothing to do for a scalar). */
        private void skip(JsonToken t) throws IOException {
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                int level = depth - 1;
                while (depth > level) {
                    next();
                }
            }
        }

        Root root() throws IOException {
            if (next() != JsonToken.START_OBJECT) {
                throw invalid("manifest must be a JSON object");
            }
            Root r = new Root();
            JsonToken t;
            while ((t = next()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = next();
                switch (name) {
                    case "schemaVersion" -> {
                        r.schemaVersion = Got.of(v == JsonToken.VALUE_NUMBER_INT
                                && p.getNumberType() == JsonParser.NumberType.INT
                                && p.getIntValue() == 2);
                        skip(v);
                    }
                    case "mediaType" -> r.mediaType = text(v, "mediaType");
                    case "artifactType" -> r.artifactType = text(v, "artifactType");
                    case "subject" -> r.subject = v == JsonToken.VALUE_NULL ? null : descriptor(v, "subject");
                    case "annotations" -> r.annotations = annotations(v, "annotations", true);
                    case "config" -> {
                        r.hasConfig = true;
                        countReference();
                        r.config = descriptor(v, "config");
                    }
                    case "layers" -> {
                        r.hasLayers = true;
                        r.layers = descriptors(v, "layers");
                    }
                    case "manifests" -> {
                        r.hasManifests = true;
                        r.manifests = descriptors(v, "manifests");
                    }
                    default -> skip(v);
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw invalid("manifest is not valid JSON");
            }
            return r;
        }

        /** A string member: JSON null is absent, anything else but a string is an error. */
        private Got<String> text(JsonToken v, String field) throws IOException {
            if (v == JsonToken.VALUE_NULL) {
                return null;
            }
            if (v != JsonToken.VALUE_STRING) {
                skip(v);
                return Got.failed(invalid(field, "must be a string"));
            }
            return Got.of(p.getText());
        }

        private void countReference() {
            if (++references > maxReferences) {
                String why = "manifest references more than " + maxReferences + " blobs and manifests; the limit is "
                        + maxReferences + " (manifests.max-references)";
                throw new RegistryException(
                        ErrorCode.MANIFEST_INVALID, why, Map.of("references", references, "limit", maxReferences));
            }
        }

        /** The descriptors of an array; null when the member is not an array (reported as a missing array). */
        private Got<List<Descriptor>> descriptors(JsonToken v, String where) throws IOException {
            if (v != JsonToken.START_ARRAY) {
                skip(v);
                return null;
            }
            List<Descriptor> list = new ArrayList<>();
            RegistryException first = null;
            JsonToken t;
            int i = 0;
            while ((t = next()) != JsonToken.END_ARRAY) {
                countReference();
                if (first != null) {
                    skip(t); // one invalid descriptor is reported; the rest are only counted
                    continue;
                }
                Got<Descriptor> d = descriptor(t, where + "[" + i++ + "]");
                if (d.error() != null) {
                    first = d.error();
                    list = null;
                } else {
                    list.add(d.value());
                }
            }
            return first == null ? Got.of(list) : Got.failed(first);
        }

        private Got<Descriptor> descriptor(JsonToken v, String where) throws IOException {
            if (v != JsonToken.START_OBJECT) {
                skip(v);
                return Got.failed(invalid(where, "must be a descriptor object"));
            }
            Got<String> mediaType = null;
            Got<String> digest = null;
            Got<String> artifactType = null;
            Got<List<String>> urlList = null;
            Got<Map<String, String>> annotations = null;
            boolean sizeValid = false;
            long size = -1;
            JsonToken t;
            while ((t = next()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = next();
                switch (name) {
                    case "mediaType" -> mediaType = text(value, "mediaType");
                    case "digest" -> digest = text(value, "digest");
                    case "artifactType" -> artifactType = text(value, "artifactType");
                    case "size" -> {
                        sizeValid = value == JsonToken.VALUE_NUMBER_INT
                                && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                                && p.getLongValue() >= 0;
                        size = sizeValid ? p.getLongValue() : -1;
                    }
                    case "urls" -> urlList = urls(value, where + ".urls");
                    case "annotations" -> annotations = annotations(value, where + ".annotations", false);
                    default -> skip(value);
                }
            }
            try {
                return Got.of(
                        checked(where, mediaType, digest, sizeValid ? size : -1, urlList, artifactType, annotations));
            } catch (RegistryException e) {
                return Got.failed(e);
            }
        }

        /** The descriptor's checks, in the order they have always been reported. */
        private static Descriptor checked(
                String where,
                Got<String> mediaType,
                Got<String> digest,
                long size,
                Got<List<String>> urls,
                Got<String> artifactType,
                Got<Map<String, String>> annotations) {
            String type = mediaType == null ? null : mediaType.get();
            if (type == null || type.isBlank()) {
                throw invalid(where + ".mediaType", "is missing");
            }
            String digestText = digest == null ? null : digest.get();
            if (digestText == null) {
                throw invalid(where + ".digest", "is missing");
            }
            Digest parsed;
            try {
                parsed = Digest.parse(digestText);
            } catch (RegistryException e) {
                throw invalid(where + ".digest", "is not a valid digest");
            }
            if (size < 0) {
                throw invalid(where + ".size", "must be a non-negative integer");
            }
            List<String> u = urls == null ? List.of() : urls.get();
            String artifact = artifactType == null ? null : artifactType.get();
            if (annotations != null) {
                annotations.get();
            }
            return new Descriptor(type, parsed, size, artifact, u);
        }

        private Got<List<String>> urls(JsonToken v, String where) throws IOException {
            if (v == JsonToken.VALUE_NULL) {
                return null;
            }
            if (v != JsonToken.START_ARRAY) {
                skip(v);
                return Got.failed(invalid(where, "must be an array"));
            }
            List<String> list = new ArrayList<>();
            boolean strings = true;
            JsonToken t;
            while ((t = next()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.VALUE_STRING) {
                    strings = false;
                    skip(t);
                } else if (strings) {
                    if (++urls > MAX_URLS) {
                        throw limit("manifest invalid: more than " + MAX_URLS + " urls", "urls", MAX_URLS);
                    }
                    list.add(p.getText());
                }
            }
            return strings ? Got.of(list) : Got.failed(invalid(where, "must hold strings"));
        }

        /**
         * An object of strings; JSON null is absent. The manifest's own annotations are kept, those of
         * descriptors only checked (nothing uses them).
         */
        private Got<Map<String, String>> annotations(JsonToken v, String where, boolean keep) throws IOException {
            if (v == JsonToken.VALUE_NULL) {
                return null;
            }
            if (v != JsonToken.START_OBJECT) {
                skip(v);
                return Got.failed(invalid(where, "must be an object of strings"));
            }
            Map<String, String> out = keep ? new LinkedHashMap<>() : null;
            RegistryException first = null;
            JsonToken t;
            while ((t = next()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = next();
                if (value != JsonToken.VALUE_STRING) {
                    skip(value);
                    if (first == null) {
                        first = invalid(where + "." + key, "must be a string");
                    }
                } else if (out != null && first == null) {
                    out.put(key, p.getText());
                }
            }
            return first != null ? Got.failed(first) : Got.of(out == null ? Map.of() : out);
        }
    }

    private static RegistryException limit(String why, String limit, int value) {
        return new RegistryException(ErrorCode.MANIFEST_INVALID, why, Map.of("limit", limit, "value", value));
    }

    private static RegistryException invalid(String why) {
        return new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest invalid: " + why, Map.of());
    }

    /** A defect of one field: the detail names the field (data, not the message again). */
    private static RegistryException invalid(String field, String why) {
        return new RegistryException(
                ErrorCode.MANIFEST_INVALID, "manifest invalid: " + field + " " + why, Map.of("field", field));
    }
}
