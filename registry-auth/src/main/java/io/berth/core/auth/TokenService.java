package io.berth.core.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bearer tokens of the Docker token flow: JWTs signed with ES256 whose {@code access} claim lists
 * what the holder was granted ({@code [{"type":"repository","name":"team-a/app","actions":["pull"]}]},
 * {@code registry:catalog:*}, and {@code registry:admin:*} — the admin API, only when asked for
 * explicitly). Issues them (when Berth is the token server) and verifies them on
 * every request: algorithm, signature, issuer, audience (the service), expiry and not-before. A
 * token's signature is checked once and the result kept until it expires; expiry is checked on every
 * use. With an external issuer only its public key is known (EC or RSA) and nothing is issued.
 */
public final class TokenService {
    private static final Duration SKEW = Duration.ofSeconds(30);
    private static final int CACHE_MAX = 10_000;

    /**
     * What a verified token says: who holds it and what they may do, until when.
     *
     * @param admin whether the token was issued for the admin API ({@code registry:admin:*}); no other
     *              token is an admin credential, whoever holds it
     */
    public record Verified(
            Principal principal,
            Map<String, Set<Action>> repositories,
            boolean catalog,
            boolean admin,
            Instant expires) {
        public boolean allows(String repository, Action action) {
            return repositories.getOrDefault(repository, Set.of()).contains(action);
        }
    }

    /** A token that cannot be used, and why (said to the client: never names a secret). */
    public static final class InvalidTokenException extends Exception {
        public InvalidTokenException(String message) {
            super(message);
        }
    }

    private final String issuer;
    private final String service;
    private final Duration lifetime;
    private final Clock clock;
    private final ECDSASigner signer;
    private final String keyId;
    private final JWSVerifier verifier;
    private final Set<JWSAlgorithm> algorithms;
    private final Map<String, Verified> verified = new ConcurrentHashMap<>();

    private TokenService(
            String issuer,
            String service,
            Duration lifetime,
            Clock clock,
            ECDSASigner signer,
            String keyId,
            JWSVerifier verifier,
            Set<JWSAlgorithm> algorithms) {
        this.issuer = issuer;
        this.service = service;
        this.lifetime = lifetime;
        this.clock = clock;
        this.signer = signer;
        this.keyId = keyId;
        this.verifier = verifier;
        this.algorithms = algorithms;
    }

    /** Berth as the token server: signs with {@code keys} (P-256) and verifies its own tokens. */
    public static TokenService issuing(KeyPair keys, String issuer, String service, Duration lifetime, Clock clock) {
        try {
            ECPublicKey pub = (ECPublicKey) keys.getPublic();
            String kid = new ECKey.Builder(Curve.P_256, pub)
                    .build()
                    .computeThumbprint()
                    .toString();
            return new TokenService(
                    issuer,
                    service,
                    lifetime,
                    clock,
                    new ECDSASigner((ECPrivateKey) keys.getPrivate()),
                    kid,
                    new ECDSAVerifier(pub),
                    Set.of(JWSAlgorithm.ES256));
        } catch (JOSEException | ClassCastException e) {
            throw new IllegalArgumentException("the token key must be an EC P-256 key pair: " + e.getMessage(), e);
        }
    }

    /** An external token server's tokens, verified with its public key (EC: ES256/384/512; RSA: RS256/384/512). */
    public static TokenService verifying(PublicKey key, String issuer, String service, Clock clock) {
        try {
            if (key instanceof ECPublicKey ec) {
                return new TokenService(
                        issuer,
                        service,
                        Duration.ZERO,
                        clock,
                        null,
                        "",
                        new ECDSAVerifier(ec),
                        Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512));
            }
            if (key instanceof RSAPublicKey rsa) {
                return new TokenService(
                        issuer,
                        service,
                        Duration.ZERO,
                        clock,
                        null,
                        "",
                        new RSASSAVerifier(rsa),
                        Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512));
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable token issuer key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("the token issuer key must be EC or RSA");
    }

    public boolean issues() {
        return signer != null;
    }

    public String service() {
        return service;
    }

    public Duration lifetime() {
        return lifetime;
    }

    /** A signed token for {@code principal} granting {@code repositories} (and the catalog when asked). */
    public String issue(Principal principal, Map<String, Set<Action>> repositories, boolean catalog) {
        return issue(principal, repositories, catalog, false);
    }

    /**
     * A signed token for {@code principal} granting {@code repositories}, the catalog and the admin API
     * as asked (the caller has checked that the principal may have them).
     */
    public String issue(Principal principal, Map<String, Set<Action>> repositories, boolean catalog, boolean admin) {
        if (signer == null) {
            throw new IllegalStateException("tokens come from an external issuer");
        }
        Instant now = clock.instant();
        List<Map<String, Object>> access = new ArrayList<>();
        repositories.forEach((name, actions) -> {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("type", "repository");
            a.put("name", name);
            a.put("actions", actions.stream().sorted().map(Action::wire).toList());
            access.add(a);
        });
        if (catalog) {
            access.add(Map.of("type", "registry", "name", "catalog", "actions", List.of("*")));
        }
        if (admin) {
            access.add(Map.of("type", "registry", "name", "admin", "actions", List.of("*")));
        }
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(principal.subject())
                .audience(service)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(lifetime)))
                .jwtID(UUID.randomUUID().toString())
                .claim("access", access)
                .build();
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .type(JOSEObjectType.JWT)
                        .keyID(keyId)
                        .build(),
                claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token", e);
        }
        return jwt.serialize();
    }

    /** The verified claims of {@code token}. */
    public Verified verify(String token) throws InvalidTokenException {
        Verified v = verified.get(token);
        if (v == null) {
            v = check(token);
            if (verified.size() >= CACHE_MAX) {
                verified.clear();
            }
            verified.put(token, v);
        }
        if (!clock.instant().isBefore(v.expires().plus(SKEW))) {
            verified.remove(token);
            throw new InvalidTokenException("the token has expired");
        }
        return v;
    }

    private Verified check(String token) throws InvalidTokenException {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidTokenException("the token is not a signed JWT");
        }
        if (!algorithms.contains(jwt.getHeader().getAlgorithm())) {
            throw new InvalidTokenException(
                    "the token is signed with " + jwt.getHeader().getAlgorithm() + ", which is not accepted");
        }
        try {
            if (!jwt.verify(verifier)) {
                throw new InvalidTokenException("the token's signature does not verify");
            }
        } catch (JOSEException e) {
            throw new InvalidTokenException("the token's signature does not verify");
        }
        if (!issuer.equals(claims.getIssuer())) {
            throw new InvalidTokenException("the token was not issued by " + issuer);
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(service)) {
            throw new InvalidTokenException("the token is not for the service " + service);
        }
        Instant now = clock.instant();
        if (claims.getExpirationTime() == null) {
            throw new InvalidTokenException("the token has no expiry");
        }
        Instant expires = claims.getExpirationTime().toInstant();
        if (!now.isBefore(expires.plus(SKEW))) {
            throw new InvalidTokenException("the token has expired");
        }
        if (claims.getNotBeforeTime() != null
                && now.plus(SKEW).isBefore(claims.getNotBeforeTime().toInstant())) {
            throw new InvalidTokenException("the token is not valid yet");
        }
        Map<String, Set<Action>> repositories = new LinkedHashMap<>();
        boolean catalog = false;
        boolean admin = false;
        Object access = claims.getClaim("access");
        if (access instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> entry)) {
                    continue;
                }
                String type = String.valueOf(entry.get("type"));
                String name = String.valueOf(entry.get("name"));
                List<?> actions = entry.get("actions") instanceof List<?> l ? l : List.of();
                if (type.equals("registry") && name.equals("catalog")) {
                    catalog = actions.contains("*");
                } else if (type.equals("registry") && name.equals("admin")) {
                    admin = actions.contains("*");
                } else if (type.equals("repository")) {
                    EnumSet<Action> set = EnumSet.noneOf(Action.class);
                    for (Object a : actions) {
                        if ("*".equals(a)) {
                            set.addAll(EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE));
                        } else {
                            Action.parse(String.valueOf(a)).ifPresent(set::add);
                        }
                    }
                    repositories.merge(name, set, (x, y) -> {
                        EnumSet<Action> u = EnumSet.copyOf(x);
                        u.addAll(y);
                        return u;
                    });
                }
            }
        }
        String subject = claims.getSubject();
        return new Verified(Principal.named(subject), Map.copyOf(repositories), catalog, admin, expires);
    }
}
