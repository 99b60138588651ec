package io.berth.core.model;

/**
 * What a robot secret looks like, known both to the accounts that issue them and to the log redaction
 * that masks them (which must not depend on the accounts).
 */
public final class RobotSecret {
    /** A prefix that secret scanners can recognise; 43 base64url characters follow it. */
    public static final String PREFIX = "berth_";

    private RobotSecret() {}
}
