package dev.septa.ca;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The CA is a library: no framework, transport, cluster or policy code (docs/architecture.md, modules). */
class ModuleBoundaryTest {

    static final JavaClasses CA = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.septa.ca");

    @Test
    void caDependsOnNoFrameworkTransportClusterOrPolicyCode() {
        noClasses().that().resideInAPackage("dev.septa.ca..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.micronaut..", "io.grpc..", "io.netty..", "io.fabric8..", "io.kubernetes..",
                        "io.envoyproxy..", "io.micrometer..", "org.slf4j..", "dev.septa.policy..",
                        "dev.septa.sidecar..", "dev.septa.controlplane..", "dev.septa.cli..")
                .because("the ca module is a library the control plane calls, and knows nothing of xDS or policies")
                .check(CA);
    }

    @Test
    void bouncyCastleIsNeverRegisteredAsAProvider() {
        // Signing must stay on the JDK's SunEC (much faster on JDK 25); registering BC globally could change that.
        noClasses().that().resideInAPackage("dev.septa.ca..")
                .should().callMethod(java.security.Security.class, "addProvider", java.security.Provider.class)
                .orShould().callMethod(java.security.Security.class, "insertProviderAt", java.security.Provider.class, int.class)
                .check(CA);
    }
}
