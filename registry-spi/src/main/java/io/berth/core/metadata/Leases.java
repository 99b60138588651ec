package io.berth.core.metadata;

/** Named leases, so that one of several instances does a job (publishing the outbox). */
public interface Leases {

    /**
     * Takes or renews the lease {@code name} for {@code owner} until {@code until} (epoch millis):
     * true when {@code owner} holds it afterwards (it was free, expired, or already its own).
     */
    boolean acquire(String name, String owner, long until);
}
