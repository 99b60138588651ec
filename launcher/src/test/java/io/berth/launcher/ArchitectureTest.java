package io.berth.launcher;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameMatching;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.lang.invoke.MethodHandles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of the code, checked on the main classes of every module (the launcher's test class
 * path holds them all). Any dependency that closes a cycle between packages, and any other that a
 * rule forbids, fails the build.
 */
class ArchitectureTest {
    static JavaClasses main;

    @BeforeAll
    static void load() {
        // main classes only: not the test classes of this module, nor the test jars of the others, nor test-support
        ImportOption mainOnly = location -> !location.contains("/test-classes/")
                && !location.contains("-tests.jar")
                && !location.contains("test-support");
        main = new ClassFileImporter().withImportOption(mainOnly).importPackages("io.berth");
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.berth.(**)").should().beFreeOfCycles().check(main);
    }

    @Test
    void theEngineKnowsNothingOfWhatIsBuiltOnIt() {
        // GC, retention and their schedule work over the engine; access control authenticates callers of it
        noClasses()
                .that()
                .resideInAPackage("io.berth.core.registry..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.berth.core.gc..",
                        "io.berth.core.retention..",
                        "io.berth.core.maintenance..",
                        "io.berth.core.auth..",
                        "io.berth.http..",
                        "io.berth.admin..",
                        "io.berth.relay..")
                .check(main);
    }

    /**
     * registry-core (the engine, its stores, GC, retention, metrics) knows nothing of access control:
     * registry-auth is built on it, with the JWT and bcrypt libraries only it carries, and the server
     * hands the engine what it needs of it ({@code auth.replicators}).
     */
    @Test
    void theEngineKnowsNothingOfAccessControl() {
        noClasses()
                .that()
                .resideInAnyPackage(
                        "io.berth.core.registry..",
                        "io.berth.core.gc..",
                        "io.berth.core.retention..",
                        "io.berth.core.maintenance..",
                        "io.berth.core.blob..",
                        "io.berth.core.metadata..",
                        "io.berth.core.metrics..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.berth.core.auth..", "com.nimbusds..", "org.springframework.security..")
                .check(main);
    }

    /**
     * Access control stands on the model and the metadata store (robot accounts), never on the engine or
     * the protocols that ask it who may do what.
     */
    @Test
    void accessControlKnowsNeitherTheEngineNorTheProtocols() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.core.auth..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.berth.core.registry..",
                        "io.berth.core.gc..",
                        "io.berth.core.retention..",
                        "io.berth.core.maintenance..",
                        "io.berth.core.blob..",
                        "io.berth.http..",
                        "io.berth.admin..",
                        "io.berth.relay..",
                        "io.berth.launcher..")
                .check(main);
    }

    @Test
    void errorCodesDependOnNothingElseOfBerth() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.core.error..")
                .should()
                .dependOnClassesThat(resideInAPackage("io.berth..").and(not(resideInAPackage("io.berth.core.error.."))))
                .check(main);
    }

    /**
     * The engine does not know its backend modules: {@code RegistryFactory} reaches S3 and PostgreSQL
     * only as providers found through {@code ServiceLoader}, so a minimal build can leave them out.
     */
    @Test
    void theEngineReachesBackendModulesOnlyThroughServiceLoader() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.berth.storage..", "io.berth.metadata..")
                .check(main);
    }

    /**
     * The backend modules implement registry-spi's interfaces and never use the engine: storage-s3 no class
     * of registry-core at all, metadata-postgres only the SQL classes it shares with the SQLite store
     * ({@code io.berth.core.metadata.sql}). The module a class comes from is where it was loaded from
     * (registry-core's classes directory or jar), as packages such as {@code io.berth.core.blob} are
     * split between registry-spi and registry-core.
     */
    @Test
    void theBackendModulesStandOnTheSpiNotTheEngine() {
        DescribedPredicate<JavaClass> ofRegistryCore = inModule("registry-core");
        assertTrue(
                main.stream().anyMatch(ofRegistryCore) && main.stream().anyMatch(inModule("registry-spi")),
                "the class path holds registry-core and registry-spi");
        noClasses()
                .that()
                .resideInAPackage("io.berth.storage..")
                .should()
                .dependOnClassesThat(ofRegistryCore)
                .check(main);
        noClasses()
                .that()
                .resideInAPackage("io.berth.metadata..")
                .should()
                .dependOnClassesThat(ofRegistryCore.and(not(resideInAPackage("io.berth.core.metadata.sql"))))
                .check(main);
    }

    /** Classes loaded from the build output or the jar of {@code module}. */
    private static DescribedPredicate<JavaClass> inModule(String module) {
        return DescribedPredicate.describe(
                "come from " + module,
                c -> c.getSource()
                        .map(s -> s.getUri().toString().matches(".*/" + module + "(/target/classes/|-[^/]*\\.jar!/).*"))
                        .orElse(false));
    }

    @Test
    void theHttpAndAdminApisNeverTouchSql() {
        noClasses()
                .that()
                .resideInAnyPackage("io.berth.http..", "io.berth.admin..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "java.sql..",
                        "org.sqlite..",
                        "org.postgresql..",
                        "com.zaxxer..",
                        "io.berth.metadata.postgres..")
                .check(main);
    }

    @Test
    void webhooksAndTheReplicatorNeverUseTheEngine() {
        noClasses()
                .that()
                .resideInAnyPackage("io.berth.webhooks..", "io.berth.replicator..")
                .should()
                .dependOnClassesThat(resideInAPackage("io.berth.core.registry..")
                        .or(resideInAPackage("io.berth.core.gc.."))
                        .or(resideInAPackage("io.berth.core.retention.."))
                        .or(resideInAPackage("io.berth.core.metadata.."))
                        .or(resideInAPackage("io.berth.core.auth.."))
                        .or(resideInAPackage("io.berth.http.."))
                        .or(resideInAPackage("io.berth.admin.."))
                        .or(resideInAPackage("io.berth.relay.."))
                        .or(resideInAPackage("io.berth.core.blob..")))
                .check(main);
    }

    /**
     * The OCI client (oci-client) is shared by the replicator and the pull-through cache's upstreams: it
     * stands on the model alone, never on the engine, its SPI, the servers or Kafka.
     */
    @Test
    void theOciClientStandsOnTheModelAlone() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.oci..")
                .should()
                .dependOnClassesThat(resideInAPackage("io.berth..")
                        .and(not(resideInAnyPackage(
                                "io.berth.oci..", "io.berth.core.model..", "io.berth.core.config.."))))
                .orShould()
                .dependOnClassesThat()
                .resideInAnyPackage("io.helidon..", "org.apache.kafka..", "java.sql..")
                .check(main);
    }

    /**
     * The pull-through cache: the engine sees upstreams only through its SPI (io.berth.core.proxy, values
     * and interfaces), so it carries no HTTP client; the upstream side (io.berth.proxy) never reaches into
     * the engine, its stores or the servers.
     */
    @Test
    void theEngineSeesUpstreamsOnlyThroughItsSpi() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.core..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.berth.proxy..", "io.berth.oci..", "java.net.http..")
                .check(main);
        noClasses()
                .that()
                .resideInAPackage("io.berth.core.proxy..")
                .should()
                .dependOnClassesThat(resideInAPackage("io.berth..")
                        .and(not(resideInAnyPackage(
                                "io.berth.core.proxy..", "io.berth.core.model..", "io.berth.core.error.."))))
                .check(main);
        noClasses()
                .that()
                .resideInAPackage("io.berth.proxy..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.berth.core.registry..",
                        "io.berth.core.metadata..",
                        "io.berth.core.blob..",
                        "io.berth.http..",
                        "io.berth.admin..",
                        "io.helidon..",
                        "java.sql..")
                .check(main);
    }

    /** The registry-model module: what every other module may stand on, standing on nothing of Berth. */
    @Test
    void theModelDependsOnNothingButItself() {
        String[] model = {
            "io.berth.core.model..",
            "io.berth.core.error..",
            "io.berth.core.manifest..",
            "io.berth.core.config..",
            "io.berth.core.files..",
            "io.berth.core.logging..",
            "io.berth.core.io.."
        };
        noClasses()
                .that()
                .resideInAnyPackage(model)
                .should()
                .dependOnClassesThat(resideInAPackage("io.berth..").and(not(resideInAnyPackage(model))))
                .check(main);
    }

    /** The events module is the schema consumers share: Kafka's clients are event-stream's business. */
    @Test
    void theEventSchemaKnowsNoKafkaClient() {
        noClasses()
                .that()
                .resideInAPackage("io.berth.events..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("org.apache.kafka..", "io.berth.eventstream..")
                .check(main);
    }

    @Test
    void helidonsInternalsAreReachedOnlyFromTheHttpModule() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.berth.http..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.helidon.webserver.http1..", "io.helidon.common.socket..")
                .check(main);
    }

    /**
     * The Helidon fence: the classes of Helidon that are not its API (reached with VarHandles:
     * {@code Http1ServerRequest*}, {@code Http1Connection}, the socket writers and sockets, the reader's
     * nodes), and the private lookups and class-name lookups that reach them, only from
     * {@code io.berth.http.helidon}, behind its facade {@code HelidonFastPaths} and version gate. Two
     * classes outside it look a class up by name, each for one JDK-internal API that javac would
     * otherwise warn about (the build fails on warnings): {@code DirectWriter} (O_DIRECT) and
     * {@code Signals} (SIGTERM, SIGINT).
     */
    @Test
    void helidonsNonPublicClassesAreReachedOnlyBehindTheFence() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.berth.http.helidon..")
                .and()
                .doNotHaveFullyQualifiedName("io.berth.core.blob.DirectWriter")
                .and()
                .doNotHaveFullyQualifiedName("io.berth.launcher.Signals")
                .should()
                .dependOnClassesThat(nameMatching("io\\.helidon\\.webserver\\.http1\\.Http1(ServerRequest.*|Connection)"
                        + "|io\\.helidon\\.common\\.socket\\.(SocketWriter.*|PlainSocket|NioSocket|TlsSocket)"
                        + "|io\\.helidon\\.common\\.buffers\\.DataReader\\$Node"))
                .orShould()
                .callMethod(MethodHandles.class, "privateLookupIn", Class.class, MethodHandles.Lookup.class)
                .orShould()
                .callMethod(Class.class, "forName", String.class)
                .check(main);
    }
}
