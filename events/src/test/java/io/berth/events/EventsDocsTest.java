package io.berth.events;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/events.md lists every event type with its action and shows an example of each. */
class EventsDocsTest {
    @Test
    void everyTypeHasARowAndAnExample() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "events.md"));
        for (EventType t : EventType.values()) {
            String row = "| `" + t.type() + "` | `" + t.action() + "` |";
            assertTrue(page.contains(row), "docs/events.md lacks the row " + row);
            assertTrue(page.contains("\"type\": \"" + t.type() + "\""), "docs/events.md lacks an example of " + t);
        }
    }

    /** The record headers as docs/events.md states them, value for value, are the ones the relay sends. */
    @Test
    void theContentTypeHeaderIsTheDocumentedOne() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "events.md")).replaceAll("\\s+", " ");
        String documented = "`" + EventCodec.HEADER_CONTENT_TYPE + ": " + EventCodec.STRUCTURED_CONTENT_TYPE + "`";
        assertTrue(page.contains(documented), "docs/events.md states the header as " + documented);
    }
}
