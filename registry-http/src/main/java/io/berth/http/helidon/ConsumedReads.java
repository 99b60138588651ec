package io.berth.http.helidon;

import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.http.ServerRequest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Unlinks the buffers a connection's requests (headers and bodies) have been read from, so that the
 * garbage collector can see they are garbage.
 *
 * <p>Helidon 4.5's connection reader ({@link DataReader}) keeps what it read from the socket in a
 * singly linked list of nodes and drops consumed ones by advancing its head, without clearing their
 * {@code next}. Once one node of a connection is promoted to the old generation (it was being read
 * during a young collection that overflowed the survivor space), every later node of that
 * connection is reachable from it until a full collection: each young collection copies the whole
 * body received since then and promotes it — nepotism. Under concurrent uploads that was a quarter
 * of the server's CPU time (serial collector) and the reason resident memory sat at the heap's limit.
 *
 * <p>When a request arrives ({@code RequestLog}) and after each read of a request body
 * ({@code RequestBody}), this clears {@code next} of every node the connection's reader has moved
 * past since the last time (nodes it never touches again: its head only moves forward). The same
 * chain formed across the requests of a keep-alive connection: 256 connections of wrk took the heap
 * to its maximum before.
 *
 * <p>It needs private access to Helidon's classes, which the class path grants; where it is not
 * granted (another Helidon version, a module path), it does nothing and the server works as before
 * — {@code ConsumedReadsTest} fails on a Helidon upgrade that changes these internals.
 */
final class ConsumedReads {
    private static final VarHandle HEAD; // DataReader.head
    private static final VarHandle NEXT; // DataReader.Node.next

    static {
        VarHandle head = null;
        VarHandle next = null;
        try {
            Class<?> node = Class.forName("io.helidon.common.buffers.DataReader$Node");
            head = MethodHandles.privateLookupIn(DataReader.class, MethodHandles.lookup())
                    .findVarHandle(DataReader.class, "head", node);
            next = MethodHandles.privateLookupIn(node, MethodHandles.lookup()).findVarHandle(node, "next", node);
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            head = null;
        }
        HEAD = HelidonConnections.contextAvailable() ? head : null;
        NEXT = HEAD == null ? null : next;
    }

    /**
     * Per connection (its reader), the node that was its head when last seen. Weak both ways: a
     * closed connection's reader is collected, and a node (which refers to its reader) never keeps
     * one alive.
     */
    private static final Map<DataReader, WeakReference<Object>> SEEN = Collections.synchronizedMap(new WeakHashMap<>());

    private ConsumedReads() {}

    /** Whether Helidon's internals could be reached (false: {@link #release} does nothing). */
    static boolean available() {
        return HEAD != null;
    }

    /**
     * Unlinks the nodes the reader of {@code req}'s connection has moved past since the last call for
     * that connection. Call it on the thread that handles the request (the reader is idle then).
     */
    static void release(ServerRequest req) {
        if (HEAD != null) {
            HelidonConnections.context(req).ifPresent(ctx -> release(ctx.dataReader())); // HTTP/1 only
        }
    }

    /** As above, for {@code reader}. */
    static void release(DataReader reader) {
        if (HEAD == null || reader == null) {
            return;
        }
        Object head = HEAD.get(reader);
        WeakReference<Object> last = SEEN.put(reader, new WeakReference<>(head));
        // the reader's head only moves forward, so the node last seen is the head or before it; one
        // that was collected was unreachable and so cannot hold anything either
        Object n = last == null ? null : last.get();
        while (n != null && n != head) {
            Object next = NEXT.get(n);
            NEXT.set(n, null);
            n = next;
        }
    }
}
