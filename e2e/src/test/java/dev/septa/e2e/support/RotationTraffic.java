package dev.septa.e2e.support;

import dev.septa.demo.CallReporter;
import dev.septa.demo.ExpectedDecisions;
import dev.septa.demo.WorkloadEvents;
import dev.septa.policy.check.Decision;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * What the demo fleet's workloads report while certificates rotate: calls judged against the policy (a call that
 * policy allows and that failed is a failure, whatever the error), the caller serials servers saw in handshakes,
 * and the certificates each agent wrote. Fed by {@link #event}, counted only while {@link #counting} is set.
 */
public final class RotationTraffic {
    public final AtomicBoolean counting = new AtomicBoolean();
    public final AtomicLong allowedOk = new AtomicLong();
    public final AtomicLong denied = new AtomicLong();
    public final List<String> failures = new CopyOnWriteArrayList<>();
    /** Caller SPIFFE ID -> serial numbers of its certificates that servers saw in handshakes. */
    public final Map<String, Set<String>> serialsSeen = new ConcurrentHashMap<>();
    public final Map<String, AtomicLong> certificatesWritten = new ConcurrentHashMap<>();
    private final Supplier<Optional<ExpectedDecisions>> decisions;

    public RotationTraffic(Supplier<Optional<ExpectedDecisions>> decisions) {
        this.decisions = decisions;
    }

    /** Starts counting afresh. */
    public void start() {
        failures.clear();
        allowedOk.set(0);
        denied.set(0);
        counting.set(true);
    }

    public void event(String workload, WorkloadEvents.Event event) {
        switch (event.kind()) {
            case "agent" -> {
                if (event.field(0).startsWith("certificate written")) {
                    certificatesWritten.computeIfAbsent(workload, k -> new AtomicLong()).incrementAndGet();
                    // When each SVID reached the disk: read beside a failed handshake, it tells a late renewal from one
                    // that grpc did not pick up.
                    System.out.println(java.time.LocalTime.now() + " [" + workload + "] " + event.field(0));
                } else {
                    System.out.println("[" + workload + "] agent " + event.fields());
                }
            }
            case "served" -> {
                String[] methodAndCaller = event.field(1).split(" ", 2);
                if (counting.get() && methodAndCaller.length == 2) {
                    serialsSeen.computeIfAbsent(methodAndCaller[1], k -> ConcurrentHashMap.newKeySet()).add(event.field(2));
                }
            }
            case "call" -> WorkloadEvents.CallResult.of(workload, event).ifPresent(this::called);
            case "error" -> System.out.println("[" + workload + "] error " + event.fields());
            default -> { }
        }
    }

    private void called(WorkloadEvents.CallResult call) {
        if (!counting.get()) {
            return;
        }
        Optional<Decision> decision = decisions.get().flatMap(d -> d.decide(call.from(), call.target(), call.path(), call.server()));
        boolean deniedLike = call.permissionDenied() || CallReporter.notRouted(call);
        boolean policyDenies = decision.map(d -> d.verdict() == Decision.Verdict.DENY).orElse(false);
        if (call.ok() && policyDenies) {
            failures.add(call.from() + " -> " + call.target() + call.path() + ": served although policy denies it");
        } else if (call.ok()) {
            allowedOk.incrementAndGet();
        } else if (policyDenies || (deniedLike && decision.isEmpty())) {
            // Policy says no: not a failure, whatever the error. (A denied pair is egress-scoped away, so its channel
            // has no listener; while the control plane restarts grpc reports "Connection refused" there instead of
            // "does not exist".)
            denied.incrementAndGet();
        } else {
            String failure = call.from() + " -> " + call.target() + call.path() + ": " + call.code() + " " + call.detail();
            System.out.println(java.time.LocalTime.now() + " FAILED " + failure + " (" + call.millis() + " ms)");
            failures.add(failure);
        }
    }

    /** The certificates in a PEM file, in order. */
    public static List<X509Certificate> certificates(String pem) throws Exception {
        return CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                .stream().map(X509Certificate.class::cast).toList();
    }
}
