package io.berth.core.auth;

import io.berth.core.config.ConfigKey;
import io.berth.core.config.ConfigKey.Type;
import io.berth.core.config.ConfigKeySet;
import java.time.Duration;
import java.util.List;

/**
 * The keys of access control ({@code auth.*}): users, policy, tokens, replicators and login limits,
 * owned by this module and found with {@link java.util.ServiceLoader}. They follow
 * {@code http.rate-limit-burst} in help and the docs, where they always were.
 */
public final class AuthKeys implements ConfigKeySet {
    public static final ConfigKey AUTH_TYPE = ConfigKey.choice(
            "auth.type",
            "none",
            List.of("none", "htpasswd", "token"),
            "Authentication: none (anyone may do anything), htpasswd (basic auth), token (the Docker token "
                    + "flow with Berth's token endpoint, or an external issuer).");
    public static final ConfigKey AUTH_HTPASSWD_PATH = new ConfigKey(
            "auth.htpasswd.path",
            "",
            Type.TEXT,
            "htpasswd file of users with bcrypt passwords (htpasswd -B); the token endpoint uses it too. Reloaded "
                    + "when it changes.");
    public static final ConfigKey AUTH_POLICY = new ConfigKey(
            "auth.policy",
            "",
            Type.TEXT,
            "YAML policy of groups and rules (docs/access.md); reloaded when it changes. None: authenticated "
                    + "callers may pull, push and delete everywhere, anonymous ones nothing.");
    public static final ConfigKey AUTH_TOKEN_SERVICE = new ConfigKey(
            "auth.token.service", "berth", Type.TEXT, "The service name of the token flow: the audience of tokens.");
    public static final ConfigKey AUTH_TOKEN_ISSUER = new ConfigKey(
            "auth.token.issuer", "berth", Type.TEXT, "The issuer of tokens (iss), checked on every token.");
    public static final ConfigKey AUTH_TOKEN_KEY_FILE = new ConfigKey(
            "auth.token.key-file",
            "./data/token-key.pem",
            Type.PATH,
            "PEM file with the token signing key (PKCS#8 EC P-256 and its PUBLIC KEY); created when absent.");
    public static final ConfigKey AUTH_TOKEN_LIFETIME = ConfigKey.duration(
            "auth.token.lifetime",
            "5m",
            Duration.ofSeconds(10),
            Duration.ofHours(24),
            "How long an issued token is valid.");
    public static final ConfigKey AUTH_TOKEN_REALM = new ConfigKey(
            "auth.token.realm",
            "",
            Type.TEXT,
            "Token endpoint URL announced in WWW-Authenticate; empty: /auth/token under http.public-url (or, without "
                    + "it, at the address the connection reached; never the Host header).");
    public static final ConfigKey AUTH_TOKEN_PUBLIC_KEY = new ConfigKey(
            "auth.token.public-key",
            "",
            Type.TEXT,
            "PEM public key or certificate of an external token issuer (EC or RSA); then Berth issues no tokens and "
                    + "auth.token.realm names the issuer.");
    public static final ConfigKey AUTH_REPLICATORS = new ConfigKey(
            "auth.replicators",
            "",
            Type.LIST,
            "Users or robots (robot:NAME) that berth replicate logs in as, comma-separated: their pulls are "
                    + "replication copies, not a user's last pull (retention) and no pull events.");
    public static final ConfigKey AUTH_LOGIN_FAILURES_PER_ADDRESS = ConfigKey.count(
            "auth.login.failures-per-address",
            "10",
            1,
            1_000_000,
            "Failed logins one client address may make in a row; then one more per "
                    + "auth.login.failure-refill, and other attempts get 429 with Retry-After before any password is "
                    + "checked.");
    public static final ConfigKey AUTH_LOGIN_FAILURES_PER_USER = ConfigKey.count(
            "auth.login.failures-per-user",
            "20",
            1,
            1_000_000,
            "Failed logins of one user name, from any address, in a row; then as "
                    + "auth.login.failures-per-address (credentials this address proved lately still work).");
    public static final ConfigKey AUTH_LOGIN_FAILURE_REFILL = ConfigKey.duration(
            "auth.login.failure-refill",
            "6s",
            Duration.ofMillis(10),
            Duration.ofHours(1),
            "How often one failed login is forgiven, per address and per " + "user name.");
    public static final ConfigKey AUTH_LOGIN_MAX_CONCURRENT = ConfigKey.count(
            "auth.login.max-concurrent",
            "0",
            0,
            1024,
            "Password (bcrypt) checks run at once, on threads of their own; a few more wait up to 2s, others "
                    + "get 429. 0: half the processors, at least 1.");

    static final List<ConfigKey> ALL = List.of(
            AUTH_TYPE,
            AUTH_HTPASSWD_PATH,
            AUTH_POLICY,
            AUTH_TOKEN_SERVICE,
            AUTH_TOKEN_ISSUER,
            AUTH_TOKEN_KEY_FILE,
            AUTH_TOKEN_LIFETIME,
            AUTH_TOKEN_REALM,
            AUTH_TOKEN_PUBLIC_KEY,
            AUTH_REPLICATORS,
            AUTH_LOGIN_FAILURES_PER_ADDRESS,
            AUTH_LOGIN_FAILURES_PER_USER,
            AUTH_LOGIN_FAILURE_REFILL,
            AUTH_LOGIN_MAX_CONCURRENT);

    @Override
    public List<ConfigKey> keys() {
        return ALL;
    }

    @Override
    public String after() {
        return "http.rate-limit-burst";
    }
}
