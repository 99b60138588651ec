package io.berth.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Unlinks the buffers a request body has been read from, so that the garbage collector can see
 * they are garbage.
 *
 * <p>Helidon 4.5's connection reader ({@link DataReader}) keeps what it read from the socket in a
 * singly linked list of nodes and drops consumed ones by advancing its head, without clearing their
 * {@code next}. Once one node of a connection is promoted to the old generation (it was being read
 * during a young collection that overflowed the survivor space), every later node of that
 * connection is reachable from it until a full collection: each young collection copies the whole
 * body received since then and promotes it — nepotism. Under concurrent uploads that was a quarter
 * of the server's CPU time (serial collector) and the reason resident memory sat at the heap's limit.
 *
 * <p>After each read of the body, this clears {@code next} of every node the reader has moved past
 * (nodes it never touches again: its head only moves forward). It needs private access to Helidon's
 * classes, which the class path grants; where it is not granted (another Helidon version, a module
 * path), it does nothing and the server works as before — {@code ConsumedReadsTest} fails on a
 * Helidon upgrade that changes these internals.
 */
final class ConsumedReads {
    private static final VarHandle CONTEXT; // Http1ServerRequest.ctx
    private static final VarHandle HEAD; // DataReader.head
    private static final VarHandle NEXT; // DataReader.Node.next
    private static final ConsumedReads NONE = new ConsumedReads(null);

    static {
        VarHandle context = null;
        VarHandle head = null;
        VarHandle next = null;
        try {
            Class<?> request = Class.forName("io.helidon.webserver.http1.Http1ServerRequest");
            Class<?> node = Class.forName("io.helidon.common.buffers.DataReader$Node");
            context = MethodHandles.privateLookupIn(request, MethodHandles.lookup())
                    .findVarHandle(request, "ctx", ConnectionContext.class);
            head = MethodHandles.privateLookupIn(DataReader.class, MethodHandles.lookup())
                    .findVarHandle(DataReader.class, "head", node);
            next = MethodHandles.privateLookupIn(node, MethodHandles.lookup()).findVarHandle(node, "next", node);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            context = null;
        }
        CONTEXT = context;
        HEAD = context == null ? null : head;
        NEXT = context == null ? null : next;
    }

    private final DataReader reader;
    private Object seen;

    private ConsumedReads(DataReader reader) {
        this.reader = reader;
        this.seen = reader == null ? null : HEAD.get(reader);
    }

    /** Whether Helidon's internals could be reached (false: {@link #release()} does nothing). */
    static boolean available() {
        return CONTEXT != null;
    }

    /** For the body of {@code req}, read on the calling thread. */
    static ConsumedReads of(ServerRequest req) {
        if (CONTEXT == null || !CONTEXT.coordinateTypes().get(0).isInstance(req)) {
            return NONE; // not an HTTP/1 request
        }
        return of(((ConnectionContext) CONTEXT.get(req)).dataReader());
    }

    /** For {@code reader} (tests). */
    static ConsumedReads of(DataReader reader) {
        return CONTEXT == null || reader == null ? NONE : new ConsumedReads(reader);
    }

    /** Whether this releases anything (false for requests it cannot reach into). */
    boolean active() {
        return reader != null;
    }

    /**
     * Clears the links of the nodes the reader has moved past since the last call. Call it on the
     * thread that reads the body, between reads.
     */
    void release() {
        if (reader == null) {
            return;
        }
        Object head = HEAD.get(reader);
        Object n = seen;
        while (n != null && n != head) {
            Object next = NEXT.get(n);
            NEXT.set(n, null);
            n = next;
        }
        seen = head;
    }
}
