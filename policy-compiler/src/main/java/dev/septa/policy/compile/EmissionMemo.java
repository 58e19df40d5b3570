package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.ir.IdentityKey;
import dev.septa.policy.ir.ServicePort;
import dev.septa.policy.ir.WorkloadPlan;
import dev.septa.policy.model.Protocol;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The emissions one compile handed out, keyed by the <em>value</em> of each emission's input (a proxy's inbound
 * rules, the service ports it may reach, the mTLS mode), for the next compile to reuse. Emission is a pure function
 * of that input, so a hit is byte-identical to emitting again; and a reused {@link Emission} is the very same
 * holder, emitted or not: once emitted it yields the same {@link ProxyResources} instance to every compile that
 * reuses it, which lets the control plane keep that proxy's assembled snapshot too. A hit that was not emitted yet
 * is {@linkplain Emission#rebase re-pointed} at the new compile's plan, so the memo never pins older compiles.
 *
 * <p>The key is the whole input of the emitter, never a part of it (a partial key would serve stale RBAC). Only
 * what the latest compile used is kept, so the memo never grows past one mesh's distinct configurations.
 * Immutable; {@link Recorder} builds the next one during a compile (not thread-safe).
 */
public final class EmissionMemo {
    public static final EmissionMemo EMPTY = new EmissionMemo(Map.of(), Map.of());

    private final Map<ValueKey, Emission> envoy;
    private final Map<ValueKey, Emission> grpc;

    private EmissionMemo(Map<ValueKey, Emission> envoy, Map<ValueKey, Emission> grpc) {
        this.envoy = envoy;
        this.grpc = grpc;
    }

    /** Distinct emissions held (both dialects, emitted or not). */
    public int size() {
        return envoy.size() + grpc.size();
    }

    Recorder recorder() {
        return new Recorder(this);
    }

    /** Looks emissions up in the previous memo and records what this compile used. */
    static final class Recorder {
        private final EmissionMemo previous;
        private final Map<ValueKey, Emission> envoy = new HashMap<>();
        private final Map<ValueKey, Emission> grpc = new HashMap<>();
        /** Value form of each reach list and service port, computed once per instance (replicas share them). */
        private final Map<List<ServicePort>, List<ServicePortValue>> reachValues = new IdentityHashMap<>();
        private final Map<ServicePort, ServicePortValue> portValues = new IdentityHashMap<>();
        private final Map<IdentityKey, Emission> envoyByIdentity = new HashMap<>();
        private final Map<IdentityKey, Emission> grpcByIdentity = new HashMap<>();
        private int hits;
        private int misses;

        private Recorder(EmissionMemo previous) {
            this.previous = previous;
        }

        Emission envoy(WorkloadPlan plan, EmissionContext context) {
            return envoyByIdentity.computeIfAbsent(new IdentityKey(plan.ports(), plan.otherPorts(), plan.reachable(), plan.mtls()),
                    k -> lookup(Dialect.ENVOY, previous.envoy, envoy,
                            new ValueKey(plan.ports(), plan.otherPorts(), reach(plan.reachable()), plan.mtls()), plan, context));
        }

        Emission grpc(WorkloadPlan plan, EmissionContext context) {
            return grpcByIdentity.computeIfAbsent(new IdentityKey(plan.ports(), plan.reachable(), plan.mtls()),
                    k -> lookup(Dialect.GRPC, previous.grpc, grpc, new ValueKey(plan.ports(), reach(plan.reachable()), plan.mtls()),
                            plan, context));
        }

        private Emission lookup(Dialect dialect, Map<ValueKey, Emission> before, Map<ValueKey, Emission> now, ValueKey key,
                                WorkloadPlan plan, EmissionContext context) {
            Emission known = now.get(key);
            if (known == null) {
                known = before.get(key);
                if (known == null) {
                    misses++;
                    known = Emission.deferred(dialect, plan, context);
                } else {
                    hits++;
                    known.rebase(plan, context);
                }
                now.put(key, known);
            }
            return known;
        }

        private List<ServicePortValue> reach(List<ServicePort> reachable) {
            return reachValues.computeIfAbsent(reachable, l -> {
                List<ServicePortValue> out = new ArrayList<>(l.size());
                for (ServicePort sp : l) {
                    out.add(portValues.computeIfAbsent(sp, ServicePortValue::of));
                }
                return List.copyOf(out);
            });
        }

        int hits() {
            return hits;
        }

        int misses() {
            return misses;
        }

        EmissionMemo result() {
            return new EmissionMemo(Map.copyOf(envoy), Map.copyOf(grpc));
        }
    }

    /** Everything of a {@link ServicePort} that emission reads (its derived names follow from these). */
    private record ServicePortValue(String name, String namespace, int port, Protocol protocol, List<String> addresses,
                                    List<String> identities) {
        static ServicePortValue of(ServicePort sp) {
            return new ServicePortValue(sp.name(), sp.namespace(), sp.port(), sp.protocol(), sp.addresses(), sp.identities());
        }
    }

    /** A value key with its hash computed once: deep hashing of rule lists is the costly part of a lookup. */
    private static final class ValueKey {
        private final Object[] parts;
        private final int hash;

        ValueKey(Object... parts) {
            this.parts = parts;
            this.hash = Arrays.hashCode(parts);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ValueKey k && k.hash == hash && Arrays.equals(k.parts, parts);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
