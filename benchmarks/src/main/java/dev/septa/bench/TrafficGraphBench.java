package dev.septa.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.septa.controlplane.graph.AccessLogReceiver;
import dev.septa.controlplane.graph.FloodGuard;
import dev.septa.controlplane.graph.GraphCounters;
import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.PolicyAnnotator;
import dev.septa.controlplane.graph.TrafficGraph;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.controlplane.graph.WorkloadDirectory;
import dev.septa.controlplane.graph.WorkloadRef;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.stub.StreamObserver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What the traffic graph costs per access-log entry: {@code record} (aggregation into 1,000 edges, two threads),
 * {@code admit} (the flood guard), and {@code receiveBatch} (a 100-entry Envoy message parsed and recorded by the
 * receiver, without the network). Run: {@code java -jar benchmarks/target/benchmarks.jar TrafficGraphBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TrafficGraphBench {
    private TrafficGraph graph;
    private FloodGuard guard;
    private Observation[] observations;
    private StreamObserver<StreamAccessLogsMessage> stream;
    private StreamAccessLogsMessage batch;

    @Setup
    public void setup() {
        GraphCounters counters = new GraphCounters();
        graph = new TrafficGraph(TrafficGraph.Settings.defaults(), java.time.InstantSource.system(), counters);
        guard = new FloodGuard(1e12, Integer.MAX_VALUE, counters);
        WorkloadRef dst = WorkloadRef.workload("shop", "payments-1", "payments");
        observations = new Observation[1000];
        for (int i = 0; i < observations.length; i++) {
            observations[i] = new Observation(WorkloadRef.workload("ns" + i % 10, "w" + i, "seg" + i % 7), dst, 8443,
                    i % 5 == 0 ? Verdict.DENY : Verdict.ALLOW, "shop/intent-" + i % 13, null, "POST", "/x");
        }
        WorkloadDirectory directory = new WorkloadDirectory() {
            public Optional<WorkloadRef> byNodeId(String nodeId) {
                return Optional.empty();
            }

            public Optional<WorkloadRef> bySource(String spiffeId, String address) {
                return Optional.empty();
            }
        };
        AccessLogReceiver receiver = new AccessLogReceiver(graph, directory, guard, PolicyAnnotator.NONE, 1 << 20);
        stream = receiver.streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
            public void onNext(StreamAccessLogsResponse v) {
            }

            public void onError(Throwable t) {
                throw new IllegalStateException(t);
            }

            public void onCompleted() {
            }
        });
        var entries = StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder();
        for (int i = 0; i < 100; i++) {
            entries.addLogEntry(entry(i));
        }
        stream.onNext(StreamAccessLogsMessage.newBuilder().setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                .setNode(Node.newBuilder().setId("shop/payments-1")).setLogName("septa.inbound")).setHttpLogs(entries).build());
        batch = StreamAccessLogsMessage.newBuilder().setHttpLogs(entries).build();
    }

    private static HTTPAccessLogEntry entry(int i) {
        Struct rbac = Struct.newBuilder()
                .putFields("septa_allow_enforced_engine_result", Value.newBuilder().setStringValue("allowed").build())
                .putFields("septa_allow_enforced_effective_policy_id", Value.newBuilder().setStringValue("shop/intent-" + i % 13).build())
                .build();
        return HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(AccessLogCommon.newBuilder()
                        .setDownstreamRemoteAddress(addr("10.0.0." + i, 40000))
                        .setDownstreamLocalAddress(addr("10.0.1.1", 8443))
                        .setTlsProperties(TLSProperties.newBuilder().setPeerCertificateProperties(
                                TLSProperties.CertificateProperties.newBuilder().addSubjectAltName(
                                        TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                                                .setUri("spiffe://cluster.local/ns/shop/sa/sa" + i % 20))))
                        .setMetadata(Metadata.newBuilder().putFilterMetadata("envoy.filters.http.rbac", rbac)))
                .setRequest(HTTPRequestProperties.newBuilder().setRequestMethod(RequestMethod.POST).setPath("/shop.Payments/Charge"))
                .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(200)).setResponseCodeDetails("via_upstream"))
                .build();
    }

    private static Address addr(String ip, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
    }

    @Benchmark
    @Threads(2)
    public void record() {
        graph.record(observations[ThreadLocalRandom.current().nextInt(observations.length)]);
    }

    @Benchmark
    @Threads(2)
    public boolean admit() {
        return guard.admit();
    }

    /** One 100-entry message per op: multiply the score by 100 for entries per second. */
    @Benchmark
    public void receiveBatch() {
        stream.onNext(batch);
    }
}
