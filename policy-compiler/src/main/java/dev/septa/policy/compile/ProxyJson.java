package dev.septa.policy.compile;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.io.UncheckedIOException;
import java.io.IOException;
import java.util.List;

/**
 * Proto3 JSON for compiled resources: map keys sorted (RBAC {@code policies} is a map), every {@code Any} type
 * we emit registered, so the same resources always print the same bytes.
 */
public final class ProxyJson {
    /** Every message type Septa packs into an {@code Any} (validation tests unpack by this list too). */
    public static final List<Message> ANY_TYPES = List.of(
            HttpConnectionManager.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDefaultInstance(),
            Router.getDefaultInstance(),
            TcpProxy.getDefaultInstance(),
            OriginalDst.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDefaultInstance(),
            DownstreamTlsContext.getDefaultInstance(),
            UpstreamTlsContext.getDefaultInstance(),
            HttpProtocolOptions.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig.getDefaultInstance(),
            io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig.getDefaultInstance());

    public static final JsonFormat.TypeRegistry TYPES = registry();

    private static JsonFormat.TypeRegistry registry() {
        JsonFormat.TypeRegistry.Builder b = JsonFormat.TypeRegistry.newBuilder();
        ANY_TYPES.forEach(m -> b.add(m.getDescriptorForType()));
        return b.build();
    }

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(TYPES).sortingMapKeys();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(TYPES);

    private ProxyJson() { }

    public static String print(Message message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("an Any type is missing from ProxyJson.TYPES: " + e.getMessage(), e);
        }
    }

    /** A JSON array of the messages, one per element, in order. */
    public static String printAll(List<? extends Message> messages) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < messages.size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n").append(print(messages.get(i)).indent(2).stripTrailing());
        }
        return sb.append(messages.isEmpty() ? "]\n" : "\n]\n").toString();
    }

    public static <B extends Message.Builder> B parse(String json, B builder) {
        try {
            PARSER.merge(json, builder);
            return builder;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
