package io.berth.launcher.cli;

import java.util.Objects;

/** A positional parameter of a {@link Command}: one value, required, named in help by its label ({@code REPO}). */
public final class Positional {
    private final String label;
    private final String description;

    private Positional(String label, String description) {
        this.label = Objects.requireNonNull(label);
        this.description = Objects.requireNonNull(description);
    }

    /** A parameter shown as {@code label}, without a description. */
    public static Positional of(String label) {
        return new Positional(label, "");
    }

    /** A parameter shown as {@code label}, described in the command's help. */
    public static Positional of(String label, String description) {
        return new Positional(label, description);
    }

    String label() {
        return label;
    }

    String description() {
        return description;
    }

    @Override
    public String toString() {
        return label;
    }
}
