package dev.septa.controlplane.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resources of one xDS type for one configuration, by name, each with its content-hash version, plus the
 * type's version (a hash over all names and versions). Immutable and shared by every proxy with that content.
 */
public record TypeResources(String version, Map<String, VersionedResource<?>> byName) {
    public static final TypeResources EMPTY = of(java.util.List.of());

    public TypeResources {
        byName = Collections.unmodifiableMap(new TreeMap<>(byName));
    }

    /** Names and versions only: secrets carry private keys, which must never reach a log. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("TypeResources[version=").append(version).append(", ");
        byName.forEach((name, r) -> out.append(name).append('@').append(r.version()).append(' '));
        return out.append(']').toString();
    }

    /**
     * Packs each resource once, with deterministic serialization, into the {@link Any} every proxy sharing this
     * configuration is sent ({@link PackedResourceSerializer} passes it through), and versions it by those bytes.
     */
    public static TypeResources of(Collection<? extends Message> resources) {
        return of(resources, null);
    }

    public static TypeResources of(Collection<? extends Message> resources, ResourceInterner interner) {
        if (interner != null) {
            return interner.types(resources);
        }
        VersionedResource<?>[] packed = new VersionedResource<?>[resources.size()];
        int i = 0;
        for (Message resource : resources) {
            packed[i++] = ResourceInterner.pack(resource);
        }
        return ofPacked(resources, packed);
    }

    /** {@code packed[i]} is {@code resources}' i-th element, packed and versioned. */
    static TypeResources ofPacked(Collection<? extends Message> resources, VersionedResource<?>[] packed) {
        TreeMap<String, VersionedResource<?>> byName = new TreeMap<>();
        int i = 0;
        for (Message resource : resources) {
            byName.put(Resources.getResourceName(resource), packed[i++]);
        }
        ContentHash typeHash = new ContentHash();
        byName.forEach((name, versioned) -> typeHash.add(name).add(versioned.version()));
        return new TypeResources(typeHash.hex(), byName);
    }
}
