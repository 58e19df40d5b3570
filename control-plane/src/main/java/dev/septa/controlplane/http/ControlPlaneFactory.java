package dev.septa.controlplane.http;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Exposes the control plane core as a bean; the options come from {@code septa serve} or a test. */
@Factory
public class ControlPlaneFactory {

    @Singleton
    ControlPlaneMetrics metrics(MeterRegistry registry) {
        return new ControlPlaneMetrics(registry);
    }

    @Singleton
    @Bean(preDestroy = "close")
    ControlPlaneCore core(ControlPlaneOptions options, ControlPlaneMetrics metrics) {
        try {
            return new ControlPlaneCore(options, metrics).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the xDS server on " + options.xdsHost() + ":" + options.xdsPort()
                    + ": " + e.getMessage(), e);
        }
    }
}
