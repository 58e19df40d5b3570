package dev.septa.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.serializer.DefaultProtoResourcesSerializer;

/**
 * Snapshots hold resources already packed ({@link TypeResources#of}): sending one to a thousand proxies reuses the
 * same bytes instead of serializing a thousand times.
 */
final class PackedResourceSerializer extends DefaultProtoResourcesSerializer {
    @Override
    public Any serialize(Message resource, Resources.ApiVersion apiVersion) {
        return resource instanceof Any packed ? packed : super.serialize(resource, apiVersion);
    }
}
