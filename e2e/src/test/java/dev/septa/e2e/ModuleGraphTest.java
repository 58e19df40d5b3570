package dev.septa.e2e;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The module graph is the architecture (docs/architecture.md): identity at the bottom, control-plane on top of the
 * others, nothing points back; and inside every module the packages form no cycle.
 */
class ModuleGraphTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importSepta() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                // Under `verify` the test-jars e2e depends on (control-plane's, policy-compiler's) are jars, which
                // DO_NOT_INCLUDE_TESTS does not recognise: their support classes are test code, not the product.
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("dev.septa");
    }

    @Test
    void everyModuleIsOnTheClasspath() {
        // Guards the rules below: a rule over an empty set of classes passes trivially.
        assertThat(classes.stream().map(c -> c.getPackageName()))
                .anyMatch(p -> p.startsWith("dev.septa.policy"))
                .anyMatch(p -> p.startsWith("dev.septa.ca"))
                .anyMatch(p -> p.startsWith("dev.septa.cli"))
                .anyMatch(p -> p.startsWith("dev.septa.identity"))
                .anyMatch(p -> p.startsWith("dev.septa.sidecar"));
    }

    @Test
    void noPackageCycles() {
        // One slice per package (dev.septa.controlplane.xds, dev.septa.policy.emit.envoy, ...): a package may use
        // another only if that one does not reach back to it, directly or through others.
        slices().matching("dev.septa.(**)").namingSlices("$1")
                .should().beFreeOfCycles()
                .check(classes);
    }

    @Test
    void identityIsTheBottomOfTheGraph() {
        noClasses().that().resideInAPackage("dev.septa.identity..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.septa.policy..", "dev.septa.ca..", "dev.septa.sidecar..", "dev.septa.controlplane..",
                        "dev.septa.cli..", "dev.septa.demo..",
                        "io.micronaut..", "io.grpc..", "io.netty..", "io.fabric8..", "io.envoyproxy..")
                .check(classes);
    }

    @Test
    void compilerAndCaKnowNothingOfServersFrameworksOrKubernetes() {
        noClasses().that().resideInAnyPackage("dev.septa.policy..", "dev.septa.ca..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.micronaut..", "io.grpc..", "io.netty..", "io.fabric8..",
                        "io.envoyproxy.controlplane.server..", "io.envoyproxy.controlplane.cache..")
                .check(classes);
    }

    @Test
    void compilerAndCaAreIndependentOfEachOther() {
        noClasses().that().resideInAPackage("dev.septa.policy..")
                .should().dependOnClassesThat().resideInAPackage("dev.septa.ca..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.septa.ca..")
                .should().dependOnClassesThat().resideInAPackage("dev.septa.policy..")
                .check(classes);
    }

    @Test
    void sidecarConfigDoesNotKnowHowPoliciesAreCompiled() {
        noClasses().that().resideInAPackage("dev.septa.sidecar..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.septa.policy.parse..", "dev.septa.policy.resolve..", "dev.septa.policy.ir..",
                        "dev.septa.policy.emit..", "dev.septa.policy.compile..", "dev.septa.policy.rbac..",
                        "dev.septa.policy.check..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void nothingPointsBackAtTheControlPlane() {
        noClasses().that().resideInAnyPackage("dev.septa.policy..", "dev.septa.ca..", "dev.septa.sidecar..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.septa.controlplane..", "dev.septa.cli..", "dev.septa.demo..")
                .allowEmptyShould(true)
                .check(classes);
    }
}
