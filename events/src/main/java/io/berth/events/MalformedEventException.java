package io.berth.events;

/** A record on the event topic that is not a Berth event; the message says what is wrong with it. */
public final class MalformedEventException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedEventException(String message) {
        super(message);
    }
}
