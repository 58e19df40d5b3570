package dev.septa.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Packs and versions each distinct resource once per publish, however many proxies carry it (with egress to every
 * service, a thousand proxies carry the same cluster a thousand times). Resources equal to one of the previous
 * publish are taken from it without serializing again. Likewise each distinct list of resources of one type gets
 * one {@link TypeResources} (a thousand proxies reaching the same services share one cluster map and its hash).
 *
 * <p>Lookups try the instance first: the compiler shares resource instances across proxies, and comparing a large
 * message with an equal copy is a deep walk. Not thread-safe: one per publisher.
 */
public final class ResourceInterner {
    private Map<Message, VersionedResource<Any>> previous = new HashMap<>();
    private Map<Message, VersionedResource<Any>> current = new HashMap<>();
    private Map<Message, VersionedResource<Any>> byInstance = new IdentityHashMap<>();
    private Map<ListKey, TypeResources> previousTypes = new HashMap<>();
    private Map<ListKey, TypeResources> currentTypes = new HashMap<>();

    /** Starts a publish: what the last one packed stays available, what this one does not use is then dropped. */
    public void nextGeneration() {
        previous = current;
        current = new HashMap<>();
        byInstance = new IdentityHashMap<>();
        previousTypes = currentTypes;
        currentTypes = new HashMap<>();
    }

    VersionedResource<Any> intern(Message resource) {
        VersionedResource<Any> known = byInstance.get(resource);
        if (known != null) {
            return known;
        }
        known = current.get(resource);
        if (known == null) {
            known = previous.get(resource);
            if (known == null) {
                known = pack(resource);
            }
            current.put(resource, known);
        }
        byInstance.put(resource, known);
        return known;
    }

    /** The resources of one type, packed, named and versioned; equal lists (by packed instance) share one result. */
    TypeResources types(Collection<? extends Message> resources) {
        VersionedResource<?>[] packed = new VersionedResource<?>[resources.size()];
        int i = 0;
        for (Message resource : resources) {
            packed[i++] = intern(resource);
        }
        ListKey key = new ListKey(packed);
        TypeResources known = currentTypes.get(key);
        if (known == null) {
            known = previousTypes.get(key);
            if (known == null) {
                known = TypeResources.ofPacked(resources, packed);
            }
            currentTypes.put(key, known);
        }
        return known;
    }

    static VersionedResource<Any> pack(Message resource) {
        byte[] bytes = ContentHash.deterministicBytes(resource);
        // The type URL as bytes: a String field is UTF-8 encoded again each time the Any is written, which is once
        // per proxy the resource is sent to.
        Any packed = Any.newBuilder()
                .setTypeUrlBytes(ByteString.copyFromUtf8("type.googleapis.com/" + resource.getDescriptorForType().getFullName()))
                .setValue(ByteString.copyFrom(bytes)).build();
        return VersionedResource.create(packed, new ContentHash().add(bytes).hex());
    }

    /** A list of interned resources compared by instance: equal instances in order mean equal content. */
    private static final class ListKey {
        private final Object[] items;
        private final int hash;

        ListKey(Object[] items) {
            this.items = items;
            int h = 1;
            for (Object o : items) {
                h = 31 * h + System.identityHashCode(o);
            }
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof ListKey k) || k.hash != hash || k.items.length != items.length) {
                return false;
            }
            for (int i = 0; i < items.length; i++) {
                if (items[i] != k.items[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
