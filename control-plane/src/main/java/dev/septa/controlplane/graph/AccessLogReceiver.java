package dev.septa.controlplane.graph;

import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.Objects;
import java.util.Optional;

/**
 * Envoy's access log service ({@code envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs}): Envoy
 * sidecars (an {@code envoy.access_loggers.http_grpc} / {@code tcp_grpc} logger on the inbound listener) and
 * Septa's proxyless reporting library stream entries here; each becomes an observation in the
 * {@link TrafficGraph}. Only the first message of a stream carries the identifier (Envoy's behaviour); its
 * node id ({@code NS/NAME}) names the destination workload for the whole stream.
 *
 * <p>Refusals end only the offending stream, with a status saying why, and are counted: a message over
 * {@code maxMessageBytes}, a stream whose first message has no identifier or a node id not of the form
 * {@code NS/NAME}, a message with no entries. A single entry without a local port is skipped and counted as
 * malformed. The {@link FloodGuard} sheds entries beyond its rate before any parsing work.
 */
public final class AccessLogReceiver extends AccessLogServiceGrpc.AccessLogServiceImplBase {
    /** Default cap on one message; gRPC's own inbound limit (4 MiB by default) applies before this. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

    private final TrafficGraph graph;
    private final WorkloadDirectory directory;
    private final FloodGuard guard;
    private final PolicyAnnotator annotator;
    private final AccessLogEntryReader reader;
    private final int maxMessageBytes;
    private final ReporterAuthorizer authorizer;

    public AccessLogReceiver(TrafficGraph graph, WorkloadDirectory directory, FloodGuard guard,
                             PolicyAnnotator annotator, int maxMessageBytes) {
        this(graph, directory, guard, annotator, maxMessageBytes, ReporterAuthorizer.ANYONE);
    }

    public AccessLogReceiver(TrafficGraph graph, WorkloadDirectory directory, FloodGuard guard,
                             PolicyAnnotator annotator, int maxMessageBytes, ReporterAuthorizer authorizer) {
        this.authorizer = Objects.requireNonNull(authorizer);
        this.graph = Objects.requireNonNull(graph);
        this.directory = Objects.requireNonNull(directory);
        this.guard = Objects.requireNonNull(guard);
        this.annotator = Objects.requireNonNull(annotator);
        this.reader = new AccessLogEntryReader(directory);
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(StreamObserver<StreamAccessLogsResponse> response) {
        return new StreamObserver<>() {
            private WorkloadRef destination;
            private boolean closed;

            @Override
            public void onNext(StreamAccessLogsMessage msg) {
                if (closed) {
                    return;
                }
                if (msg.getSerializedSize() > maxMessageBytes) {
                    refuse(Status.RESOURCE_EXHAUSTED, "access-log message of " + msg.getSerializedSize()
                            + " bytes is over the limit of " + maxMessageBytes + " bytes; send smaller batches");
                    return;
                }
                if (msg.hasIdentifier()) {
                    String nodeId = msg.getIdentifier().getNode().getId();
                    if (destination != null && !destination.id().equals(nodeId)) {
                        refuse(Status.INVALID_ARGUMENT, "a stream reports for one node; it began as '"
                                + destination.id() + "'");
                        return;
                    }
                    if (!authorizer.mayReportFor(nodeId)) {
                        refuse(Status.PERMISSION_DENIED, "this caller may not report access logs for node '"
                                + printable(nodeId) + "'");
                        return;
                    }
                    Optional<WorkloadRef> node = destinationOf(nodeId);
                    if (node.isEmpty()) {
                        refuse(Status.INVALID_ARGUMENT, "identifier.node.id '" + printable(nodeId)
                                + "' is not a workload; expected NAMESPACE/NAME");
                        return;
                    }
                    destination = node.get();
                }
                if (destination == null) {
                    refuse(Status.INVALID_ARGUMENT, "the first message of a stream must carry identifier.node.id");
                    return;
                }
                switch (msg.getLogEntriesCase()) {
                    case HTTP_LOGS -> {
                        for (var e : msg.getHttpLogs().getLogEntryList()) {
                            if (guard.admit()) {
                                record(reader.http(e, destination));
                            }
                        }
                    }
                    case TCP_LOGS -> {
                        for (var e : msg.getTcpLogs().getLogEntryList()) {
                            if (guard.admit()) {
                                record(reader.tcp(e, destination));
                            }
                        }
                    }
                    default -> refuse(Status.INVALID_ARGUMENT, "message carries neither http_logs nor tcp_logs");
                }
            }

            private void refuse(Status status, String why) {
                closed = true;
                graph.counters().countRefusedMessage();
                response.onError(status.withDescription(why).asRuntimeException());
            }

            @Override
            public void onError(Throwable t) {
                closed = true;
            }

            @Override
            public void onCompleted() {
                if (!closed) {
                    closed = true;
                    response.onNext(StreamAccessLogsResponse.getDefaultInstance());
                    response.onCompleted();
                }
            }
        };
    }

    private void record(Optional<Observation> parsed) {
        if (parsed.isEmpty()) {
            graph.counters().countMalformedEntry();
            return;
        }
        Observation o = parsed.get();
        if (o.decidedBy() == null || o.wouldDenyBy() == null) {
            // The log had no (or partial) RBAC metadata, e.g. a proxyless server: ask the evaluator, and keep the
            // observed verdict: it is what happened, even while a new policy is still being pushed.
            var a = annotator.annotate(o.source().id(), o.destination().id(), o.port(), o.method(), o.path());
            if (a.isPresent() && a.get().verdict() == o.verdict()) {
                o = o.withDecision(o.verdict(), o.decidedBy() != null ? o.decidedBy() : a.get().decidedBy(),
                        o.wouldDenyBy() != null ? o.wouldDenyBy() : a.get().wouldDenyBy());
            }
        }
        graph.record(o);
    }

    private Optional<WorkloadRef> destinationOf(String nodeId) {
        Optional<WorkloadRef> known = directory.byNodeId(nodeId);
        if (known.isPresent()) {
            return known;
        }
        int slash = nodeId.indexOf('/');
        if (slash <= 0 || slash != nodeId.lastIndexOf('/') || slash == nodeId.length() - 1 || nodeId.length() > 253) {
            return Optional.empty();
        }
        // Not (yet) in the inventory, but well formed: still show it rather than lose its traffic.
        return Optional.of(WorkloadRef.workload(nodeId.substring(0, slash), nodeId.substring(slash + 1), null));
    }

    private static String printable(String s) {
        return dev.septa.policy.model.Printable.cut(s, 80);
    }
}
