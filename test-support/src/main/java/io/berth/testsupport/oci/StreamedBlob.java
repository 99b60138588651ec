package io.berth.testsupport.oci;

import io.berth.core.model.Digest;

/**
 * A blob pulled without holding it: the {@code Content-Length} announced, the bytes that arrived and
 * their digest.
 */
public record StreamedBlob(long contentLength, long length, Digest digest) {}
