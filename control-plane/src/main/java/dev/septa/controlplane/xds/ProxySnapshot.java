package dev.septa.controlplane.xds;

import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import io.envoyproxy.controlplane.cache.Resources;
import java.util.Map;

/**
 * One distinct proxy configuration (listeners, routes, clusters, endpoints). Its {@code key} is the content hash
 * of the dialect and every type's version; proxies needing exactly this configuration share one instance.
 */
public record ProxySnapshot(String key, Map<String, TypeResources> types) {
    public static final ProxySnapshot EMPTY = new ProxySnapshot("empty", Map.of(
            Resources.V3.LISTENER_TYPE_URL, TypeResources.EMPTY,
            Resources.V3.ROUTE_TYPE_URL, TypeResources.EMPTY,
            Resources.V3.CLUSTER_TYPE_URL, TypeResources.EMPTY,
            Resources.V3.ENDPOINT_TYPE_URL, TypeResources.EMPTY));

    public ProxySnapshot {
        types = Map.copyOf(types);
    }

    public static ProxySnapshot of(Dialect dialect, ProxyResources resources) {
        return of(dialect, resources, null);
    }

    public static ProxySnapshot of(Dialect dialect, ProxyResources resources, ResourceInterner interner) {
        Map<String, TypeResources> types = Map.of(
                Resources.V3.LISTENER_TYPE_URL, TypeResources.of(resources.listeners(), interner),
                Resources.V3.ROUTE_TYPE_URL, TypeResources.of(resources.routes(), interner),
                Resources.V3.CLUSTER_TYPE_URL, TypeResources.of(resources.clusters(), interner),
                Resources.V3.ENDPOINT_TYPE_URL, TypeResources.of(resources.endpoints(), interner));
        ContentHash key = new ContentHash().add(dialect.name());
        for (String typeUrl : Resources.V3.TYPE_URLS) {
            TypeResources t = types.get(typeUrl);
            key.add(typeUrl).add(t == null ? "-" : t.version());
        }
        return new ProxySnapshot(key.hex(), types);
    }

    public TypeResources type(String typeUrl) {
        return types.get(typeUrl);
    }
}
