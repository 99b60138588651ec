package io.berth.launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;

/**
 * Waiting for SIGTERM or SIGINT, the way every long-running command stops. A command listens from
 * the moment it begins ({@link #listen}), so a signal that arrives while it is still starting neither
 * kills the process half-started (the JVM's default answer, exit status 143) nor is lost: the command
 * finishes starting and then stops in order.
 */
final class Signals {
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile String failure;

    private Signals() {}

    /** Starts listening for SIGTERM and SIGINT. */
    static Signals listen() {
        Signals signals = new Signals();
        handle("TERM", signals.stop::countDown);
        handle("INT", signals.stop::countDown);
        return signals;
    }

    /**
     * {@code sun.misc.Signal.handle(new Signal(name), s -> action.run())}, reached reflectively: the JDK
     * has no public API for signals, and naming {@code sun.misc} in source draws a javac warning that no
     * annotation can suppress (the build fails on warnings).
     */
    private static void handle(String name, Runnable action) {
        try {
            Class<?> signalType = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object signal = signalType.getConstructor(String.class).newInstance(name);
            Object handler = Proxy.newProxyInstance(
                    Signals.class.getClassLoader(),
                    new Class<?>[] {handlerType},
                    (proxy, method, args) -> objectMethod(proxy, method, args, action));
            signalType.getMethod("handle", signalType, handlerType).invoke(null, signal, handler);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // as the direct call would: e.g. IllegalArgumentException for a signal the JVM reserves
            }
            throw new IllegalStateException("cannot handle SIG" + name, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot handle SIG" + name, e);
        }
    }

    /** The handler's one method runs the action; Object's methods answer as for any object. */
    private static Object objectMethod(Object proxy, Method method, Object[] args, Runnable action) {
        return switch (method.getName()) {
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> "SignalHandler for " + action;
            default -> {
                action.run(); // handle(Signal)
                yield null;
            }
        };
    }

    /**
     * Stops the command as a signal would, because part of it failed for good: {@link #failure} says
     * why, and the command exits non-zero so that its supervisor starts it again.
     */
    void fail(String why) {
        failure = why;
        stop.countDown();
    }

    /** Why {@link #fail} stopped the command; null after a signal. */
    String failure() {
        return failure;
    }

    /** Waits until one of them arrived (or had arrived since {@link #listen}). */
    void await() {
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
