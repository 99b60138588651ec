package io.berth.proxy;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The upstream side stands on the SPI and the OCI client, never on the engine, its stores or the
 * servers (until the launcher carries this module, launcher's ArchitectureTest cannot see it).
 */
class ProxyArchitectureTest {
    @Test
    void theUpstreamSideKnowsNeitherTheEngineNorTheServers() {
        JavaClasses main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.berth.proxy");
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
}
