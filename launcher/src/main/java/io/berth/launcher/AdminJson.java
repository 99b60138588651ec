package io.berth.launcher;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * The admin API's answers as {@code berth admin --json} prints them, for scripts: every field under
 * the name protobuf's JSON mapping gives it, numbers as JSON numbers (protobuf's own JSON writes 64-bit
 * integers as strings), and times as RFC 3339 strings: a field {@code pushed_epoch_millis} is printed
 * as {@code "pushedAt": "2026-11-27T09:12:03.517Z"}, and {@code null} where the API says 0 (never).
 */
final class AdminJson {
    private static final String MILLIS = "_epoch_millis";

    private AdminJson() {}

    static String print(MessageOrBuilder message) {
        StringBuilder out = new StringBuilder();
        object(out, message, "");
        return out.toString();
    }

    /**
     * The same JSON on one line (JSON Lines, for streams): strings hold no raw line break, so every
     * line break is the layout's.
     */
    static String line(MessageOrBuilder message) {
        return print(message).replaceAll(",\n\\s*", ", ").replaceAll("\n\\s*", "");
    }

    /** The JSON name of a field: protobuf's, except that times are named {@code …At}. */
    static String name(FieldDescriptor f) {
        if (!isTime(f)) {
            return f.getJsonName();
        }
        String base = f.getName().substring(0, f.getName().length() - MILLIS.length());
        base = base.equals("at") || base.endsWith("_at") ? base : base + "_at";
        StringBuilder camel = new StringBuilder();
        boolean upper = false;
        for (char c : base.toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                camel.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return camel.toString();
    }

    private static boolean isTime(FieldDescriptor f) {
        return f.getName().endsWith(MILLIS) && f.getJavaType() == FieldDescriptor.JavaType.LONG && !f.isRepeated();
    }

    private static void object(StringBuilder out, MessageOrBuilder m, String indent) {
        List<FieldDescriptor> fields = m.getDescriptorForType().getFields().stream()
                .filter(f -> f.isRepeated() || f.getRealContainingOneof() == null || m.hasField(f))
                .toList();
        if (fields.isEmpty()) {
            out.append("{}");
            return;
        }
        String inner = indent + "  ";
        out.append("{\n");
        for (int i = 0; i < fields.size(); i++) {
            FieldDescriptor f = fields.get(i);
            out.append(inner);
            string(out, name(f));
            out.append(": ");
            if (f.isRepeated()) {
                int n = m.getRepeatedFieldCount(f);
                if (n == 0) {
                    out.append("[]");
                } else {
                    out.append("[\n");
                    for (int j = 0; j < n; j++) {
                        out.append(inner).append("  ");
                        value(out, f, m.getRepeatedField(f, j), inner + "  ");
                        out.append(j + 1 < n ? ",\n" : "\n");
                    }
                    out.append(inner).append("]");
                }
            } else {
                value(out, f, m.getField(f), inner);
            }
            out.append(i + 1 < fields.size() ? ",\n" : "\n");
        }
        out.append(indent).append("}");
    }

    private static void value(StringBuilder out, FieldDescriptor f, Object v, String indent) {
        if (isTime(f)) {
            long millis = (Long) v;
            if (millis == 0) {
                out.append("null");
            } else {
                string(out, Instant.ofEpochMilli(millis).toString());
            }
            return;
        }
        switch (f.getJavaType()) {
            case INT, LONG, FLOAT, DOUBLE, BOOLEAN -> out.append(v);
            case STRING -> string(out, (String) v);
            case ENUM -> string(out, ((EnumValueDescriptor) v).getName());
            case BYTE_STRING -> string(out, Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()));
            case MESSAGE -> object(out, (MessageOrBuilder) v, indent);
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
