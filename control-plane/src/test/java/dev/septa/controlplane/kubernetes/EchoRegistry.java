package dev.septa.controlplane.kubernetes;

import dev.septa.sidecar.grpc.BytesMethods;
import io.grpc.HandlerRegistry;
import io.grpc.ServerMethodDefinition;
import io.grpc.stub.ServerCalls;
import java.nio.charset.StandardCharsets;

/** Answers any unary method with the serving workload's id. */
final class EchoRegistry extends HandlerRegistry {
    private final byte[] id;

    EchoRegistry(String id) {
        this.id = id.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        return ServerMethodDefinition.create(BytesMethods.unary(methodName), ServerCalls.asyncUnaryCall((request, response) -> {
            response.onNext(id);
            response.onCompleted();
        }));
    }
}
