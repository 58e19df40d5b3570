package dev.septa.controlplane.xds;

import com.google.protobuf.Message;
import dev.septa.policy.compile.Dialect;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** What a watch is answered with, given the resources in force and what the client holds: pure, called under the cache's lock. */
final class WatchAnswers {
    private WatchAnswers() {
    }

    /**
     * A state-of-the-world answer: every resource for a wildcard request; else each requested one, or when
     * {@code held} (what the client last got for these names) is given, only those changed since. A requested name
     * that does not exist is left out ("does not exist"), except that a proxyless client gets a stand-in that fails
     * its calls at once ({@link UnroutedListener}).
     */
    static Collection<Message> sotw(String typeUrl, Set<String> names, TypeResources current, TypeResources held, Dialect dialect) {
        Collection<Message> resources = new ArrayList<>();
        if (names.isEmpty()) {
            current.byName().values().forEach(r -> resources.add(r.resource()));
            return resources;
        }
        for (String name : names) {
            VersionedResource<?> r = current.byName().get(name);
            if (held != null) {
                VersionedResource<?> before = held.byName().get(name);
                if (r != null && (before == null || !before.version().equals(r.version()))) {
                    resources.add(r.resource());
                }
                continue; // unchanged (the client holds it) or gone (SotW cannot say so for this type)
            }
            if (r != null) {
                resources.add(r.resource());
            } else if (dialect == Dialect.GRPC) {
                Message standIn = UnroutedListener.standIn(typeUrl, name);
                if (standIn != null) {
                    resources.add(standIn);
                }
            }
        }
        return resources;
    }

    /**
     * The resources a delta client is sent: those it subscribes (wildcard, tracked, pending, or removed earlier while
     * still subscribed) whose version differs from the one it holds: the one it ACKed (java-control-plane's tracked
     * map), else the one it announced holding when the stream began.
     */
    static Map<String, VersionedResource<?>> deltaChanged(DeltaWatch watch, TypeResources current, Set<String> removedBefore,
                                                          DeltaHoldings announced) {
        Map<String, String> tracked = watch.trackedResources();
        Map<String, VersionedResource<?>> changed = new LinkedHashMap<>();
        current.byName().forEach((name, r) -> {
            boolean wanted = watch.isWildcard() || tracked.containsKey(name) || watch.pendingResources().contains(name)
                    || removedBefore.contains(name);
            String held = tracked.containsKey(name) ? tracked.get(name) : announced.version(name);
            if (wanted && !r.version().equals(held)) {
                changed.put(name, r);
            }
        });
        return changed;
    }

    /**
     * The names a delta client is told are gone: held (ACKed, or announced when the stream began) but no longer in
     * force, and on a new request, asked for but absent.
     */
    static Set<String> deltaRemoved(DeltaWatch watch, TypeResources current, boolean fresh, DeltaHoldings announced) {
        Set<String> removed = new TreeSet<>();
        watch.trackedResources().keySet().stream().filter(name -> !current.byName().containsKey(name)).forEach(removed::add);
        announced.absentFrom(current).forEach(removed::add);
        if (fresh) {
            watch.request().getResourceNamesSubscribeList().stream()
                    .filter(name -> !name.equals("*") && !current.byName().containsKey(name)).forEach(removed::add);
        }
        return removed;
    }
}
