package dev.septa.demo;

import dev.septa.sidecar.grpc.BytesMethods;
import dev.septa.sidecar.grpc.PeerIdentities;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Answers every gRPC method (bytes in, bytes out) with {@code "<this workload> <caller's SPIFFE ID>"}, so a demo
 * workload needs no generated stubs and the caller learns which instance served it and what identity it proved.
 */
final class AnyMethodRegistry extends HandlerRegistry {

    private final String workloadId;
    private final BiConsumer<String, String> served;

    /**
     * {@code served} receives {@code "<method> <caller>"} and the serial number (hex) of the certificate the caller
     * presented, for each answered call: the serial shows certificate rotation from the server's side.
     */
    AnyMethodRegistry(String workloadId, BiConsumer<String, String> served) {
        this.workloadId = workloadId;
        this.served = served;
    }

    static String peerSerial(io.grpc.Attributes attributes) {
        javax.net.ssl.SSLSession session = attributes.get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
        try {
            if (session != null && session.getPeerCertificates().length > 0
                    && session.getPeerCertificates()[0] instanceof java.security.cert.X509Certificate leaf) {
                return leaf.getSerialNumber().toString(16);
            }
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            // no client certificate
        }
        return "-";
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        ServerCallHandler<byte[], byte[]> handler = (call, headers) -> {
            String caller = PeerIdentities.spiffeId(call.getAttributes()).orElse("anonymous");
            call.request(1);
            return new ServerCall.Listener<>() {
                @Override
                public void onHalfClose() {
                    served.accept(methodName + " " + caller, peerSerial(call.getAttributes()));
                    call.sendHeaders(new Metadata());
                    call.sendMessage((workloadId + " " + caller).getBytes(StandardCharsets.UTF_8));
                    call.close(Status.OK, new Metadata());
                }
            };
        };
        return ServerMethodDefinition.create(BytesMethods.unary(methodName), handler);
    }
}
