package io.berth.admin;

import io.berth.core.auth.AccessControl;
import io.berth.core.auth.AccessPolicy;
import io.berth.core.auth.Action;
import io.berth.core.auth.Principal;
import io.berth.core.auth.TokenService;
import io.berth.core.model.Caller;
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
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who may call the admin API. The identities of access control: a token from the token endpoint
 * ({@code authorization: Bearer <jwt>}), basic credentials of a user or robot account
 * ({@code authorization: Basic …}), or a client certificate signed by {@code admin.tls.client-ca}
 * (the user named by its CN) — each needs the {@code admin} action on {@code *}; a token only when
 * it was asked for the admin API ({@code registry:admin:*} in its access claim). And, for
 * bootstrap, the tokens of {@code admin.tokens}: {@code ro:<token>} may only call the reading
 * methods (Get…, List…, DryRun…, Watch…), which then write nothing. Missing or wrong →
 * UNAUTHENTICATED; not allowed → PERMISSION_DENIED; too many failures from the address (passwords,
 * admin tokens, tokens alike) → RESOURCE_EXHAUSTED at once, nothing checked and no thread held.
 * With none of these configured the admin API is off and says so. Puts the {@link Caller} of each
 * call into the gRPC context.
 */
final class AdminAuth implements ServerInterceptor {
    static final Context.Key<Caller> CALLER = Context.key("berth-caller");
    /** Length from which a configured admin token passes even from an address blocked for guessing. */
    static final int UNGUESSABLE = 32;
    /** Whether the call may only read ({@code ro:} tokens): it then writes nothing, dry runs included. */
    static final Context.Key<Boolean> READ_ONLY = Context.keyWithDefault("berth-read-only", false);

    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> USER_AGENT = Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

    private record Token(byte[] secret, boolean readOnly) {}

    private final List<Token> tokens;
    private final AccessControl access;
    private final boolean clientCertificates;

    AdminAuth(List<String> configured, AccessControl access, boolean clientCertificates) {
        this.tokens = configured.stream()
                .map(t -> t.startsWith("ro:")
                        ? new Token(t.substring(3).getBytes(StandardCharsets.UTF_8), true)
                        : new Token(t.getBytes(StandardCharsets.UTF_8), false))
                .toList();
        this.access = access;
        this.clientCertificates = clientCertificates;
    }

    boolean enabled() {
        return !tokens.isEmpty() || access.enabled() || clientCertificates;
    }

    static boolean reads(String method) {
        return method.startsWith("Get")
                || method.startsWith("List")
                || method.startsWith("DryRun")
                || method.startsWith("Watch");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getBareMethodName();
        if (!enabled()) {
            return refuse(
                    call,
                    Status.UNAUTHENTICATED.withDescription("the admin API is off: no admin.tokens are "
                            + "configured (BERTH_ADMIN_TOKENS) and auth.type is none"));
        }
        String auth = headers.get(AUTHORIZATION);
        String address = address(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        Principal principal = null;
        boolean readOnlyToken = false;
        if (auth == null) {
            principal = certificateUser(call).orElse(null);
            if (principal == null) {
                return refuse(
                        call,
                        Status.UNAUTHENTICATED.withDescription("missing 'authorization: Bearer <token>' (berth admin "
                                + "--token, or --user with BERTH_ADMIN_PASSWORD)"));
            }
        } else if (auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            Optional<AccessControl.Credentials> basic = AccessControl.basic(auth);
            AccessControl.Login login;
            if (basic.isPresent() && access.enabled()) {
                login = access.login(basic.get(), address);
            } else {
                // no users to log in as: as wrong as a wrong password, and counted the same
                login = access.secretRefusal(address)
                        .<AccessControl.Login>map(t -> t)
                        .orElseGet(AccessControl.Rejected::new);
                access.failedSecret(address);
            }
            switch (login) {
                case AccessControl.Accepted a -> principal = a.principal();
                case AccessControl.Throttled t -> {
                    return refuse(call, exhausted(t));
                }
                case AccessControl.Rejected r -> {
                    return refuse(call, Status.UNAUTHENTICATED.withDescription("incorrect username or password"));
                }
            }
        } else if (auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            // guessing admin.tokens is bounded like guessing passwords: per address, before any other check. A
            // right token of UNGUESSABLE characters or more passes anyway (comparing costs nothing, and guessing
            // it is hopeless), so that guesses from an address the operator shares cannot lock the operator out
            Optional<AccessControl.Throttled> blocked = access.secretRefusal(address);
            String given = auth.substring(7).trim();
            Token match = null;
            byte[] bytes = given.getBytes(StandardCharsets.UTF_8);
            for (Token t : tokens) {
                if (MessageDigest.isEqual(t.secret(), bytes)) {
                    match = t;
                }
            }
            if (blocked.isPresent() && (match == null || match.secret().length < UNGUESSABLE)) {
                return refuse(call, exhausted(blocked.get()));
            }
            if (match != null) {
                readOnlyToken = match.readOnly();
                if (match.readOnly() && !reads(method)) {
                    return refuse(
                            call,
                            Status.PERMISSION_DENIED.withDescription("a read-only token (ro:) cannot call " + method));
                }
            } else if (access.tokens().isPresent()
                    && given.chars().filter(c -> c == '.').count() == 2) {
                TokenService.Verified token;
                try {
                    token = access.tokens().get().verify(given);
                } catch (TokenService.InvalidTokenException e) {
                    access.failedSecret(address);
                    return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
                }
                if (!token.admin()) {
                    // a pull token of an admin user is not an admin credential: only one asked for as such is
                    return refuse(
                            call,
                            Status.PERMISSION_DENIED.withDescription("this token was not issued for the "
                                    + "admin API: ask the token endpoint for scope registry:admin:*"));
                }
                principal = token.principal();
            } else {
                access.failedSecret(address);
                return refuse(
                        call,
                        Status.UNAUTHENTICATED.withDescription("the token is not one of admin.tokens"
                                + (access.tokens().isPresent() ? " nor a token of the token endpoint" : "")));
            }
        } else {
            return refuse(call, Status.UNAUTHENTICATED.withDescription("unsupported authorization scheme"));
        }
        if (principal != null && !access.may(principal, AccessPolicy.EVERYTHING, Action.ADMIN)) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription(principal + " needs the admin action on '*'"));
        }
        String requestId = headers.get(REQUEST_ID);
        Caller caller = new Caller(
                address,
                requestId == null || requestId.isBlank() ? UUID.randomUUID().toString() : requestId,
                "",
                method,
                headers.get(USER_AGENT),
                principal == null ? "" : principal.subject(),
                Caller.ADMIN);
        Context context = Context.current().withValue(CALLER, caller).withValue(READ_ONLY, readOnlyToken);
        return Contexts.interceptCall(context, call, headers, next);
    }

    /** The user a verified client certificate names (its CN), when the admin listener asks for them. */
    private Optional<Principal> certificateUser(ServerCall<?, ?> call) {
        if (!clientCertificates) {
            return Optional.empty();
        }
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate x509)) {
                return Optional.empty();
            }
            for (Rdn rdn : new LdapName(x509.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    // a certificate names a user; a CN written as a robot's subject would otherwise be matched
                    // by the rules that name that robot
                    String cn = String.valueOf(rdn.getValue());
                    return cn.isBlank() || Principal.named(cn).kind() != Principal.Kind.USER
                            ? Optional.empty()
                            : Optional.of(Principal.user(cn));
                }
            }
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static String address(SocketAddress a) {
        return a instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress()
                : String.valueOf(a);
    }

    /** A login or token refused unchecked: the client is told when to try again; nothing waits here. */
    private static Status exhausted(AccessControl.Throttled t) {
        return Status.RESOURCE_EXHAUSTED.withDescription(t.reason() + "; try again in " + t.retryAfterSeconds() + " s");
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
