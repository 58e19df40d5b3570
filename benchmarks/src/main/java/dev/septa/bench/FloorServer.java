package dev.septa.bench;

import dev.septa.identity.KeyedCertificate;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The transport floor: a bare grpc-java ADS server (TLS, Netty, no control plane behind it) that pushes to each
 * connected proxy exactly the responses the control plane sent it in a scenario, as precomputed bytes (each distinct
 * response serialized once, before the clock starts; only a fresh nonce is appended per send). Whatever a scenario
 * takes beyond this is the control plane's own work. Requests are read and ignored (ACKs included).
 */
final class FloorServer implements AutoCloseable {
    private static final String SERVICE = AggregatedDiscoveryServiceGrpc.SERVICE_NAME;

    /** A precomputed response plus the nonce field appended to it (protobuf: a repeated field, the last wins). */
    record Payload(byte[] body, byte[] nonceField) { }

    /** Hands grpc the bytes without a copy into an intermediate stream. */
    static final class PayloadStream extends InputStream implements KnownLength, Drainable {
        private final Payload payload;
        private int pos;

        PayloadStream(Payload payload) {
            this.payload = payload;
        }

        private int total() {
            return payload.body().length + payload.nonceField().length;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int n = total() - pos;
            if (pos == 0) {
                target.write(payload.body());
                target.write(payload.nonceField());
            } else {
                target.write(readAllBytes());
            }
            pos = total();
            return n;
        }

        @Override
        public int available() {
            return total() - pos;
        }

        @Override
        public int read() {
            if (pos >= total()) {
                return -1;
            }
            int b = pos < payload.body().length ? payload.body()[pos] : payload.nonceField()[pos - payload.body().length];
            pos++;
            return b & 0xff;
        }
    }

    static final MethodDescriptor.Marshaller<Payload> PAYLOAD = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Payload value) {
            return new PayloadStream(value);
        }

        @Override
        public Payload parse(InputStream stream) {
            throw new UnsupportedOperationException("server side only");
        }
    };

    private final Server server;
    private final Map<String, ServerCallStreamObserver<Payload>> streams = new ConcurrentHashMap<>();
    private final AtomicLong nonces = new AtomicLong();
    private final Map<Long, byte[]> payloads = new HashMap<>();
    private final Path dumpDir;

    FloorServer(int port, KeyedCertificate serving, Path dumpDir) throws IOException {
        this.dumpDir = dumpDir;
        try (var files = Files.list(dumpDir)) {
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith("payload-")).toList()) {
                String hex = p.getFileName().toString().replace("payload-", "").replace(".bin", "");
                payloads.put(Long.parseUnsignedLong(hex, 16), Files.readAllBytes(p));
            }
        }
        MethodDescriptor<DiscoveryRequest, Payload> sotw = MethodDescriptor.<DiscoveryRequest, Payload>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()))
                .setResponseMarshaller(PAYLOAD).build();
        MethodDescriptor<DeltaDiscoveryRequest, Payload> delta = MethodDescriptor.<DeltaDiscoveryRequest, Payload>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(DeltaDiscoveryRequest.getDefaultInstance()))
                .setResponseMarshaller(PAYLOAD).build();
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(sotw, ServerCalls.asyncBidiStreamingCall(out -> requests(out, r -> r.hasNode() ? r.getNode().getId() : null)))
                .addMethod(delta, ServerCalls.asyncBidiStreamingCall(out -> requests(out, r -> r.hasNode() ? r.getNode().getId() : null)))
                .build();
        TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder().keyManager(
                new ByteArrayInputStream(serving.certificateChainPem().getBytes(StandardCharsets.US_ASCII)),
                new ByteArrayInputStream(serving.privateKeyPem().getBytes(StandardCharsets.US_ASCII)));
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), tls.build())
                .addService(service).maxInboundMessageSize(16 * 1024 * 1024).build().start();
    }

    private <R> StreamObserver<R> requests(StreamObserver<Payload> out, java.util.function.Function<R, String> nodeOf) {
        ServerCallStreamObserver<Payload> call = (ServerCallStreamObserver<Payload>) out;
        return new StreamObserver<>() {
            private String node;

            @Override
            public void onNext(R request) {
                if (node == null) {
                    node = nodeOf.apply(request);
                    if (node != null) {
                        streams.put(node, call);
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                if (node != null) {
                    streams.remove(node, call);
                }
            }

            @Override
            public void onCompleted() {
                onError(null);
                try {
                    call.onCompleted();
                } catch (RuntimeException ignored) {
                    // already closed
                }
            }
        };
    }

    int connected() {
        return streams.size();
    }

    /**
     * Looks up what every connected proxy got in the scenario; {@link #send} then sends it, in the same order, from as many threads as
     * the control plane's publisher uses (one per core). Returns the response bytes sent.
     */
    Prepared prepare(String scenario) throws IOException {
        List<Map.Entry<ServerCallStreamObserver<Payload>, List<byte[]>>> work = new ArrayList<>();
        for (String line : Files.readAllLines(dumpDir.resolve("plan-" + scenario + ".txt"))) {
            String[] parts = line.split(" ", 3);
            if (parts.length < 3 || parts[2].isBlank()) {
                continue;
            }
            ServerCallStreamObserver<Payload> call = streams.get(parts[0]);
            if (call == null) {
                throw new IllegalStateException("floor: " + parts[0] + " is not connected");
            }
            List<byte[]> bodies = new ArrayList<>();
            for (String hex : parts[2].split(",")) {
                bodies.add(payloads.get(Long.parseUnsignedLong(hex, 16)));
            }
            work.add(Map.entry(call, bodies));
        }
        return new Prepared(work);
    }

    /** A scenario's sends, looked up before the clock starts. */
    record Prepared(List<Map.Entry<ServerCallStreamObserver<Payload>, List<byte[]>>> work) { }

    long send(Prepared prepared) throws InterruptedException {
        var work = prepared.work();
        int threads = Runtime.getRuntime().availableProcessors();
        AtomicLong bytes = new AtomicLong();
        var executor = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            int first = t;
            executor.execute(() -> {
                for (int i = first; i < work.size(); i += threads) {
                    var e = work.get(i);
                    synchronized (e.getKey()) {
                        for (byte[] body : e.getValue()) {
                            byte[] nonce = ("f" + nonces.incrementAndGet()).getBytes(StandardCharsets.US_ASCII);
                            byte[] field = new byte[2 + nonce.length];
                            field[0] = (byte) ((5 << 3) | 2);
                            field[1] = (byte) nonce.length;
                            System.arraycopy(nonce, 0, field, 2, nonce.length);
                            e.getKey().onNext(new Payload(body, field));
                            bytes.addAndGet(body.length + field.length);
                        }
                    }
                }
            });
        }
        executor.shutdown();
        executor.awaitTermination(10, TimeUnit.MINUTES);
        return bytes.get();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
