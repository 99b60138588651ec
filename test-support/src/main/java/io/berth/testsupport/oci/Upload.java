package io.berth.testsupport.oci;

/**
 * An upload session as the registry last described it: where to send the next request
 * ({@code Location}, usually a path, so another instance sharing the session can continue it) and
 * how many bytes it holds (from {@code Range}).
 */
public record Upload(String repo, String location, long offset) {}
