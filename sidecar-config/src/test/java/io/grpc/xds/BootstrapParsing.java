package io.grpc.xds;

import io.grpc.xds.client.Bootstrapper;
import io.grpc.xds.client.XdsInitializationException;
import java.io.IOException;
import java.util.Map;

/** Test access to grpc-java's package-private bootstrap parser, so tests check our JSON with grpc's own reader. */
public final class BootstrapParsing {
    private BootstrapParsing() {
    }

    @SuppressWarnings("unchecked")
    public static Bootstrapper.BootstrapInfo parse(String json) throws IOException, XdsInitializationException {
        return new GrpcBootstrapperImpl().bootstrap((Map<String, ?>) io.grpc.internal.JsonParser.parse(json));
    }
}
