package io.berth.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.berth.testsupport.MutableClock;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rules of bearer tokens on their own: what a token grants, and every reason one is refused. */
class TokenServiceTest {
    static final Duration LIFETIME = Duration.ofMinutes(5);
    final KeyPair keys = ec();
    final MutableClock clock = new MutableClock();
    final TokenService tokens = TokenService.issuing(keys, "berth", "registry.test", LIFETIME, clock);

    static KeyPair ec() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    /** Claims as Berth issues them, now, for the test's service; {@code access} as given. */
    JWTClaimsSet.Builder claims(Object access) {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder()
                .issuer("berth")
                .subject("alice")
                .audience("registry.test")
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(LIFETIME)))
                .claim("access", access);
    }

    static String signed(JWSSigner signer, JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    String signed(JWTClaimsSet claims) throws Exception {
        return signed(new ECDSASigner((ECPrivateKey) keys.getPrivate()), JWSAlgorithm.ES256, claims);
    }

    String refusal(TokenService service, String token) {
        return assertThrows(TokenService.InvalidTokenException.class, () -> service.verify(token))
                .getMessage();
    }

    @Test
    void anIssuedTokenGrantsItsHolderExactlyWhatItNames() throws Exception {
        String token =
                tokens.issue(Principal.user("alice"), Map.of("team-a/app", EnumSet.of(Action.PULL, Action.PUSH)), true);
        TokenService.Verified v = tokens.verify(token);
        assertEquals(Principal.user("alice"), v.principal());
        assertTrue(v.allows("team-a/app", Action.PULL));
        assertTrue(v.allows("team-a/app", Action.PUSH));
        assertFalse(v.allows("team-a/app", Action.DELETE), "an action not granted");
        assertFalse(v.allows("team-a/other", Action.PULL), "a repository not named");
        assertTrue(v.catalog());
        assertFalse(v.admin(), "the admin API only when asked for");
        assertEquals(clock.instant().plus(LIFETIME), v.expires());
        assertTrue(tokens.issues());

        TokenService.Verified robot = tokens.verify(tokens.issue(Principal.robot("ci"), Map.of(), false));
        assertEquals(Principal.robot("ci"), robot.principal(), "a robot's token names the robot, not a user");
        assertFalse(robot.catalog());
        assertEquals(Map.of(), robot.repositories());
    }

    @Test
    void theAdminApiIsGrantedOnlyByATokenIssuedForIt() throws Exception {
        TokenService.Verified admin = tokens.verify(tokens.issue(Principal.user("root"), Map.of(), false, true));
        assertTrue(admin.admin());
        assertFalse(admin.catalog());
        // an admin entry without "*", or a repository named admin, grants nothing of the admin API
        TokenService.Verified partial = tokens.verify(signed(claims(List.of(
                        Map.of("type", "registry", "name", "admin", "actions", List.of("pull")),
                        Map.of("type", "repository", "name", "admin", "actions", List.of("*"))))
                .build()));
        assertFalse(partial.admin());
        assertFalse(partial.catalog());
    }

    @Test
    void theAccessClaimIsReadAsTheTokenFlowWritesIt() throws Exception {
        TokenService.Verified v = tokens.verify(signed(claims(List.of(
                        Map.of("type", "repository", "name", "a", "actions", List.of("*")),
                        Map.of("type", "repository", "name", "b", "actions", List.of("pull")),
                        Map.of("type", "repository", "name", "b", "actions", List.of("push", "fly")),
                        "not an entry",
                        Map.of("type", "repository", "name", "c"),
                        Map.of("type", "registry", "name", "catalog", "actions", List.of("*"))))
                .build()));
        assertEquals(
                EnumSet.of(Action.PULL, Action.PUSH, Action.DELETE),
                v.repositories().get("a"),
                "* is every repository action, not admin");
        assertEquals(
                EnumSet.of(Action.PULL, Action.PUSH),
                v.repositories().get("b"),
                "two entries for one repository add up; an unknown action is ignored");
        assertEquals(Set.of(), v.repositories().get("c"), "an entry without actions grants nothing");
        assertTrue(v.catalog());

        TokenService.Verified none =
                tokens.verify(signed(claims("not a list").subject(null).build()));
        assertEquals(Map.of(), none.repositories());
        assertTrue(none.principal().anonymous(), "a token without a subject is nobody's");
    }

    @Test
    void aTokenIsRefusedFromAnotherIssuerServiceOrKey() throws Exception {
        String token = tokens.issue(Principal.user("alice"), Map.of(), false);
        assertEquals(
                "the token was not issued by corp",
                refusal(TokenService.issuing(keys, "corp", "registry.test", LIFETIME, clock), token));
        assertEquals(
                "the token is not for the service other.test",
                refusal(TokenService.issuing(keys, "berth", "other.test", LIFETIME, clock), token));
        assertEquals(
                "the token's signature does not verify",
                refusal(TokenService.issuing(ec(), "berth", "registry.test", LIFETIME, clock), token));
        assertEquals(
                "the token is not for the service registry.test",
                refusal(tokens, signed(claims(List.of()).audience((String) null).build())));
        assertEquals("the token is not a signed JWT", refusal(tokens, "not.a.jwt"));
        assertEquals(
                "the token is not a signed JWT",
                refusal(
                        tokens,
                        new PlainJWT(new PlainHeader(), claims(List.of()).build()).serialize()));
    }

    @Test
    void onlyTheAlgorithmsOfTheIssuersKeyAreAccepted() throws Exception {
        byte[] secret = new byte[32];
        String hmac = signed(
                new MACSigner(secret), JWSAlgorithm.HS256, claims(List.of()).build());
        assertEquals("the token is signed with HS256, which is not accepted", refusal(tokens, hmac));

        KeyPair rsa = rsa();
        TokenService external = TokenService.verifying(rsa.getPublic(), "berth", "registry.test", clock);
        assertFalse(external.issues(), "an external issuer's tokens are verified, never issued");
        String rs256 = signed(
                new RSASSASigner(rsa.getPrivate()),
                JWSAlgorithm.RS256,
                claims(List.of()).build());
        assertEquals(Principal.user("alice"), external.verify(rs256).principal());
        assertEquals(
                "the token is signed with ES256, which is not accepted",
                refusal(external, tokens.issue(Principal.user("alice"), Map.of(), false)));
        assertThrows(IllegalStateException.class, () -> external.issue(Principal.user("alice"), Map.of(), false));

        TokenService externalEc = TokenService.verifying(keys.getPublic(), "berth", "registry.test", clock);
        assertEquals(
                Principal.user("alice"),
                externalEc
                        .verify(tokens.issue(Principal.user("alice"), Map.of(), false))
                        .principal(),
                "an external EC issuer: its ES256 tokens verify");
        assertEquals("the token is signed with RS256, which is not accepted", refusal(externalEc, rs256));
    }

    @Test
    void keysOtherThanTheirKindAreRefusedWhenTheServiceIsMade() throws Exception {
        KeyPair rsa = rsa();
        assertThrows(
                IllegalArgumentException.class,
                () -> TokenService.issuing(rsa, "berth", "registry.test", LIFETIME, clock));
        KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TokenService.verifying(ed.getPublic(), "berth", "registry.test", clock));
        assertEquals("the token issuer key must be EC or RSA", e.getMessage());
    }

    @Test
    void expiryAllowsThirtySecondsOfSkewAndIsCheckedOnEveryUse() throws Exception {
        String token = tokens.issue(Principal.user("alice"), Map.of(), false);
        tokens.verify(token);
        clock.advance(LIFETIME.plusSeconds(29));
        tokens.verify(token); // remembered, and still within the skew
        // a service that has not seen it checks the claims themselves at the same moment
        TokenService fresh = TokenService.issuing(keys, "berth", "registry.test", LIFETIME, clock);
        fresh.verify(token);
        clock.advance(Duration.ofSeconds(1));
        assertEquals("the token has expired", refusal(tokens, token), "remembered, still checked");
        assertEquals(
                "the token has expired",
                refusal(TokenService.issuing(keys, "berth", "registry.test", LIFETIME, clock), token),
                "checked from its claims");
        assertEquals("the token has expired", refusal(tokens, token), "and refused again, not remembered as good");

        assertEquals(
                "the token has no expiry",
                refusal(tokens, signed(claims(List.of()).expirationTime(null).build())));
    }

    @Test
    void aTokenFromTheFutureWaitsForItsNotBeforeTimeLessTheSkew() throws Exception {
        MutableClock ahead = new MutableClock(clock.instant().plusSeconds(30));
        String soon = TokenService.issuing(keys, "berth", "registry.test", LIFETIME, ahead)
                .issue(Principal.user("alice"), Map.of(), false);
        assertEquals(Principal.user("alice"), tokens.verify(soon).principal(), "30 s early is within the skew");
        ahead.advance(Duration.ofSeconds(1));
        String tooSoon = TokenService.issuing(keys, "berth", "registry.test", LIFETIME, ahead)
                .issue(Principal.user("alice"), Map.of(), false);
        assertEquals("the token is not valid yet", refusal(tokens, tooSoon));
        // no not-before claim: valid from the start
        tokens.verify(signed(claims(List.of()).notBeforeTime(null).build()));
    }
}
