package io.berth.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one teardown: reverse order of opening, each once, a failure in one not stopping the rest. */
class ResourcesTest {
    @Test
    void closesInTheReverseOrderEachOnceAndPastAFailure() {
        List<String> closed = new ArrayList<>();
        Resources resources = new Resources();
        resources.add("registry", "r", () -> closed.add("registry"));
        resources.add("maintenance", "m", () -> closed.add("maintenance"));
        resources.add("http", "h", () -> {
            closed.add("http");
            throw new IllegalStateException("stuck");
        });
        String admin = resources.add("admin", "a", () -> closed.add("admin"));
        assertEquals("a", admin, "add hands the resource back");
        assertEquals(4, resources.size());
        resources.close();
        assertEquals(List.of("admin", "http", "maintenance", "registry"), closed);
        resources.close();
        assertEquals(4, closed.size(), "closed once");
        assertEquals(0, resources.size());
    }

    @Test
    void anInterruptedCloseKeepsTheInterruptAndGoesOn() throws Exception {
        List<String> closed = new ArrayList<>();
        Resources resources = new Resources();
        resources.add(
                "first",
                1,
                () -> closed.add("first, interrupted: " + Thread.currentThread().isInterrupted()));
        resources.add("second", 2, () -> {
            throw new InterruptedException();
        });
        resources.close();
        assertEquals(List.of("first, interrupted: false"), closed, "the next closer's waits are not cut short");
        assertEquals(true, Thread.interrupted(), "the interrupt is kept for the caller");
    }
}
