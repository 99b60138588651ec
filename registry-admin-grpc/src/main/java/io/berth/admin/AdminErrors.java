package io.berth.admin;

import io.berth.core.error.ErrorCode;
import io.berth.core.error.RegistryException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** The one table from registry error codes to gRPC status codes. */
final class AdminErrors {
    private AdminErrors() {}

    static Status.Code code(ErrorCode c) {
        return switch (c) {
            case BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN, NOT_FOUND, ROUTE_UNKNOWN ->
                Status.Code.NOT_FOUND;
            case BLOB_UPLOAD_INVALID,
                    DIGEST_INVALID,
                    MANIFEST_BLOB_UNKNOWN,
                    MANIFEST_INVALID,
                    NAME_INVALID,
                    SIZE_INVALID,
                    PAYLOAD_TOO_LARGE,
                    RANGE_INVALID,
                    PAGINATION_NUMBER_INVALID,
                    BAD_REQUEST,
                    INVALID_ARGUMENT,
                    UNSUPPORTED -> Status.Code.INVALID_ARGUMENT;
            case IMMUTABLE, REFERENCED, FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case UNAUTHORIZED -> Status.Code.UNAUTHENTICATED;
            case DENIED -> Status.Code.PERMISSION_DENIED;
            case TOOMANYREQUESTS -> Status.Code.RESOURCE_EXHAUSTED;
            case STORAGE_FULL, STORAGE_UNAVAILABLE, UPSTREAM_UNAVAILABLE, UPSTREAM_FAILED -> Status.Code.UNAVAILABLE;
            case INTERNAL -> Status.Code.INTERNAL;
        };
    }

    static StatusRuntimeException of(RegistryException e) {
        return Status.fromCode(code(e.code())).withDescription(e.getMessage()).asRuntimeException();
    }
}
