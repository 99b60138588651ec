package io.berth.testsupport;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * Whether tests that need outside programs (dockerd, skopeo) must fail or may be skipped when they
 * are missing. In CI ({@code CI} set, or {@code -Dberth.test.require-services=true}) a missing
 * dependency is a failure.
 */
public final class TestServices {
    private TestServices() {}

    public static boolean required() {
        return Boolean.getBoolean("berth.test.require-services") || System.getenv("CI") != null;
    }

    /** Fails (CI) or skips (developer machine) when {@code available} is false. */
    public static void require(boolean available, String what) {
        if (available) {
            return;
        }
        if (required()) {
            fail(what + " is required for this test but is not available");
        }
        Assumptions.abort(what + " is not available on this machine");
    }
}
