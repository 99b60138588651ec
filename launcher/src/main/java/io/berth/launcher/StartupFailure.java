package io.berth.launcher;

/**
 * A start-up that cannot go on: the one line printed (after {@code berth: }) and the exit code —
 * {@link Main#EXIT_CONFIG} for configuration a person must fix, 1 for what may work on a retry (a
 * port taken, storage unreachable).
 */
final class StartupFailure extends Exception {
    private final int exitCode;

    StartupFailure(int exitCode, String line) {
        super(line, null, false, false);
        this.exitCode = exitCode;
    }

    static StartupFailure config(String line) {
        return new StartupFailure(Main.EXIT_CONFIG, line);
    }

    static StartupFailure unavailable(String line) {
        return new StartupFailure(1, line);
    }

    int exitCode() {
        return exitCode;
    }
}
