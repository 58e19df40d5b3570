package dev.septa.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.HashMap;
import java.util.Map;

/**
 * Packs and versions each distinct resource once per publish, however many proxies carry it (with egress to every
 * service, a thousand proxies carry the same cluster a thousand times). Resources equal to one of the previous
 * publish are taken from it without serializing again. Not thread-safe: one per publisher.
 */
public final class ResourceInterner {
    private Map<Message, VersionedResource<Any>> previous = new HashMap<>();
    private Map<Message, VersionedResource<Any>> current = new HashMap<>();

    /** Starts a publish: what the last one packed stays available, what this one does not use is then dropped. */
    public void nextGeneration() {
        previous = current;
        current = new HashMap<>();
    }

    VersionedResource<Any> intern(Message resource) {
        VersionedResource<Any> known = current.get(resource);
        if (known == null) {
            known = previous.get(resource);
            if (known == null) {
                known = pack(resource);
            }
            current.put(resource, known);
        }
        return known;
    }

    static VersionedResource<Any> pack(Message resource) {
        byte[] bytes = ContentHash.deterministicBytes(resource);
        Any packed = Any.newBuilder()
                .setTypeUrl("type.googleapis.com/" + resource.getDescriptorForType().getFullName())
                .setValue(ByteString.copyFrom(bytes)).build();
        return VersionedResource.create(packed, new ContentHash().add(bytes).hex());
    }
}
