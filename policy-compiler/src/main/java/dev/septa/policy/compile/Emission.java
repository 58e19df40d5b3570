package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.ir.WorkloadPlan;

/**
 * One proxy's resources in one dialect, emitted the first time someone asks and kept from then on: a proxy connects
 * with one dialect only, so emitting both for every workload would waste half the compile's CPU and memory.
 * Thread-safe. Emission is a pure function of the plan's emission input ({@link EmissionMemo}'s key), so whenever
 * and on whichever thread it runs, the bytes are those an eager compile would have produced.
 *
 * <p>Until emitted it holds its workload's plan and the compile's {@link EmissionContext}; a later compile that
 * reuses it (equal input) {@linkplain #rebase re-points} it at its own plan and context, so an emission nobody asks
 * for pins at most the latest compile's plan, never a chain of old ones. Once emitted it drops both.
 */
final class Emission {
    private final Dialect dialect;
    private volatile ProxyResources resources;
    private WorkloadPlan plan; // guarded by this; null once emitted
    private EmissionContext context; // guarded by this; null once emitted

    private Emission(Dialect dialect, ProxyResources resources, WorkloadPlan plan, EmissionContext context) {
        this.dialect = dialect;
        this.resources = resources;
        this.plan = plan;
        this.context = context;
    }

    /** Resources already emitted (a caller that built them itself, as tests do). */
    static Emission of(Dialect dialect, ProxyResources resources) {
        return new Emission(dialect, resources, null, null);
    }

    /** Emits {@code plan} in {@code dialect} through {@code context} when first asked. */
    static Emission deferred(Dialect dialect, WorkloadPlan plan, EmissionContext context) {
        return new Emission(dialect, null, plan, context);
    }

    ProxyResources get() {
        ProxyResources known = resources;
        if (known != null) {
            return known;
        }
        synchronized (this) {
            if (context != null) {
                resources = context.emit(dialect, plan);
                plan = null;
                context = null;
            }
            return resources;
        }
    }

    /** The compile whose emitters will emit this, or null once emitted (for tests). */
    synchronized EmissionContext pendingIn() {
        return context;
    }

    boolean emitted() {
        return resources != null;
    }

    /** A later compile reuses this emission for an equal input: emit from its plan, so older compiles can be freed. */
    synchronized void rebase(WorkloadPlan plan, EmissionContext context) {
        if (resources == null && this.context != null) {
            this.plan = plan;
            this.context = context;
        }
    }
}
