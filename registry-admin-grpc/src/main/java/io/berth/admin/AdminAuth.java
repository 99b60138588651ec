package io.berth.admin;

import io.berth.core.registry.Caller;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.UUID;

/**
 * Bearer tokens for the admin API ({@code admin.tokens}): every call needs
 * {@code authorization: Bearer <token>}; a token configured as {@code ro:<token>} may only call the
 * reading methods (Get…, List…, DryRun…, Watch…). Missing or wrong → UNAUTHENTICATED; a read-only
 * token on a change → PERMISSION_DENIED. With no tokens configured the admin API is off and says so.
 * Puts the {@link Caller} of each call into the gRPC context.
 */
final class AdminAuth implements ServerInterceptor {
    static final Context.Key<Caller> CALLER = Context.key("berth-caller");
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> USER_AGENT = Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

    private record Token(byte[] secret, boolean readOnly) {
    }

    private final List<Token> tokens;

    AdminAuth(List<String> configured) {
        this.tokens = configured.stream().map(t -> t.startsWith("ro:")
                ? new Token(t.substring(3).getBytes(StandardCharsets.UTF_8), true)
                : new Token(t.getBytes(StandardCharsets.UTF_8), false)).toList();
    }

    boolean enabled() {
        return !tokens.isEmpty();
    }

    static boolean reads(String method) {
        return method.startsWith("Get") || method.startsWith("List") || method.startsWith("DryRun")
                || method.startsWith("Watch");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getBareMethodName();
        if (tokens.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription("the admin API is off: no admin.tokens are "
                    + "configured (BERTH_ADMIN_TOKENS)"));
        }
        String auth = headers.get(AUTHORIZATION);
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription("missing 'authorization: Bearer <token>' "
                    + "(berth admin --token, or BERTH_ADMIN_TOKEN)"));
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        Token match = null;
        for (Token t : tokens) {
            if (MessageDigest.isEqual(t.secret(), given)) {
                match = t;
            }
        }
        if (match == null) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription("the token is not one of admin.tokens"));
        }
        if (match.readOnly() && !reads(method)) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription("a read-only token (ro:) cannot call "
                    + method));
        }
        String requestId = headers.get(REQUEST_ID);
        Caller caller = new Caller(address(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
                requestId == null || requestId.isBlank() ? UUID.randomUUID().toString() : requestId, "", method,
                headers.get(USER_AGENT), "", Caller.ADMIN);
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
    }

    private static String address(SocketAddress a) {
        return a instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress().getHostAddress()
                : String.valueOf(a);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
