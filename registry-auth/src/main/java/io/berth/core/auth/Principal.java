package io.berth.core.auth;

import java.util.regex.Pattern;

/**
 * Who makes a request: a user (of the htpasswd file or an external token issuer), a robot account
 * ({@code robot:<name>}) or nobody ({@link #ANONYMOUS}). Policies name them as {@code alice},
 * {@code robot:ci-a}, {@code group:devs}, {@code anonymous}, {@code authenticated}.
 */
public record Principal(Kind kind, String name) {
    public enum Kind {
        USER,
        ROBOT,
        ANONYMOUS
    }

    public static final Principal ANONYMOUS = new Principal(Kind.ANONYMOUS, "");
    /** The prefix that marks a robot account's user name: {@code docker login -u robot:ci-a}. */
    public static final String ROBOT_PREFIX = "robot:";

    private static final Pattern ROBOT_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public Principal {
        name = name == null ? "" : name;
    }

    public static Principal user(String name) {
        return new Principal(Kind.USER, name);
    }

    public static Principal robot(String name) {
        return new Principal(Kind.ROBOT, name);
    }

    /** The principal a login or token subject names: {@code robot:x} is a robot, anything else a user. */
    public static Principal named(String subject) {
        if (subject == null || subject.isEmpty()) {
            return ANONYMOUS;
        }
        return subject.startsWith(ROBOT_PREFIX) ? robot(subject.substring(ROBOT_PREFIX.length())) : user(subject);
    }

    /** Whether {@code name} is a valid robot account name (lower case, digits, '.', '_', '-'; up to 64). */
    public static boolean validRobotName(String name) {
        return ROBOT_NAME.matcher(name).matches();
    }

    public boolean anonymous() {
        return kind == Kind.ANONYMOUS;
    }

    /** As logs, events, tag history and token subjects show it: {@code alice}, {@code robot:ci-a}, empty. */
    public String subject() {
        return switch (kind) {
            case USER -> name;
            case ROBOT -> ROBOT_PREFIX + name;
            case ANONYMOUS -> "";
        };
    }

    @Override
    public String toString() {
        return anonymous() ? "anonymous" : subject();
    }
}
