package io.grpc.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.grpc.FileTlsXdsCredentialsProvider;
import org.junit.jupiter.api.Test;

/**
 * With {@link FileTlsXdsCredentialsProvider#DISABLED_PROPERTY} set, as {@code septa demo}'s relayed workloads set it,
 * grpc-xds's own registry holds no Septa class: the workload's xDS runs on grpc-xds alone. (In grpc's package because
 * its registry is package-private; sidecar-config forks a JVM per test class, so this registry is this class's own.)
 */
class SeptaTlsProviderDisabledTest {
    @Test
    void theRegistryHasNoSeptaProviderWhenDisabled() {
        System.setProperty(FileTlsXdsCredentialsProvider.DISABLED_PROPERTY, "true");
        XdsCredentialsRegistry registry = XdsCredentialsRegistry.getDefaultRegistry();
        assertThat(registry.providers().values()).noneMatch(p -> p.getClass().getName().startsWith("dev.septa."));
        assertThat(registry.getProvider("insecure")).as("grpc's own insecure provider serves the relayed bootstrap").isNotNull();
        assertThat(new FileTlsXdsCredentialsProvider().isAvailable()).isFalse();
        System.clearProperty(FileTlsXdsCredentialsProvider.DISABLED_PROPERTY);
        assertThat(new FileTlsXdsCredentialsProvider().isAvailable()).as("registered by default, for --direct-tls").isTrue();
    }
}
