package io.berth.launcher.cli;

/**
 * A mistake in how a command was called that only shows once it runs (a value out of its set,
 * options that go together): printed as the parser's own mistakes are, one line naming it and one
 * pointing at the command's help, exit code 2.
 */
public final class UsageError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageError(String message) {
        super(message);
    }
}
