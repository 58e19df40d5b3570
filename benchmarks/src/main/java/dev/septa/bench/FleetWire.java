package dev.septa.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Reads just what a simulated Envoy needs from an xDS response, straight from the wire: the version, type and nonce
 * (to ACK), the names of the resources (delta), and the names a Listener or Cluster makes Envoy subscribe to next
 * (an HTTP connection manager's RDS route name, an EDS cluster's service name). Nothing else is parsed: the clients
 * share the server's cores, and decoding every cluster of a {@code defaultAction} flip would measure the client.
 */
final class FleetWire {
    private FleetWire() { }

    /** A response as received (SotW or delta), with where its nonce field sits so that it can be left out. */
    record Response(byte[] bytes, String typeUrl, String version, String nonce, List<ByteString> resources,
                    List<String> removed, int nonceStart, int nonceEnd) {
        /** A content key that ignores the nonce (per stream) but not the version: equal keys are equal responses. */
        long contentKey() {
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, nonceStart);
            crc.update(bytes, nonceEnd, bytes.length - nonceEnd);
            return (crc.getValue() << 32) ^ bytes.length;
        }

        /** The response without its nonce field (the floor server adds its own). */
        byte[] withoutNonce() {
            byte[] out = new byte[bytes.length - (nonceEnd - nonceStart)];
            System.arraycopy(bytes, 0, out, 0, nonceStart);
            System.arraycopy(bytes, nonceEnd, out, nonceStart, bytes.length - nonceEnd);
            return out;
        }
    }

    /** Parses a DiscoveryResponse ({@code delta == false}) or a DeltaDiscoveryResponse. */
    static Response parse(byte[] bytes, boolean delta) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.enableAliasing(true);
            String type = "";
            String version = "";
            String nonce = "";
            int nonceStart = bytes.length;
            int nonceEnd = bytes.length;
            List<ByteString> resources = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            while (true) {
                int start = in.getTotalBytesRead();
                int tag = in.readTag();
                if (tag == 0) {
                    break;
                }
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == DiscoveryResponse.VERSION_INFO_FIELD_NUMBER) { // 1 in both
                    version = in.readStringRequireUtf8();
                } else if (field == DiscoveryResponse.TYPE_URL_FIELD_NUMBER) { // 4 in both
                    type = in.readStringRequireUtf8();
                } else if (field == DiscoveryResponse.NONCE_FIELD_NUMBER) { // 5 in both
                    nonce = in.readStringRequireUtf8();
                    nonceStart = start;
                    nonceEnd = in.getTotalBytesRead();
                } else if (field == DiscoveryResponse.RESOURCES_FIELD_NUMBER) { // 2 in both: Any or Resource
                    resources.add(in.readBytes());
                } else if (delta && field == DeltaDiscoveryResponse.REMOVED_RESOURCES_FIELD_NUMBER) {
                    removed.add(in.readStringRequireUtf8());
                } else {
                    in.skipField(tag);
                }
            }
            return new Response(bytes, type, version, nonce, resources, removed, nonceStart, nonceEnd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A delta Resource's name and its Any's value. */
    record Named(String name, String version, ByteString value) { }

    static Named deltaResource(ByteString resource) {
        String name = "";
        String version = "";
        ByteString any = ByteString.EMPTY;
        for (Field f : fields(resource)) {
            if (f.number == Resource.NAME_FIELD_NUMBER) {
                name = f.value.toStringUtf8();
            } else if (f.number == Resource.VERSION_FIELD_NUMBER) {
                version = f.value.toStringUtf8();
            } else if (f.number == Resource.RESOURCE_FIELD_NUMBER) {
                any = f.value;
            }
        }
        return new Named(name, version, anyValue(any));
    }

    /** The value of a google.protobuf.Any (field 2). */
    static ByteString anyValue(ByteString any) {
        for (Field f : fields(any)) {
            if (f.number == 2) {
                return f.value;
            }
        }
        return ByteString.EMPTY;
    }

    /** The RDS route configuration names a Listener's HTTP connection managers ask for. */
    static void routeNames(ByteString listener, Set<String> out) {
        for (Field f : fields(listener)) {
            if (f.number == Listener.FILTER_CHAINS_FIELD_NUMBER || f.number == Listener.DEFAULT_FILTER_CHAIN_FIELD_NUMBER) {
                for (Field chain : fields(f.value)) {
                    if (chain.number != FilterChain.FILTERS_FIELD_NUMBER) {
                        continue;
                    }
                    for (Field filter : fields(chain.value)) {
                        if (filter.number != Filter.TYPED_CONFIG_FIELD_NUMBER) {
                            continue;
                        }
                        boolean hcm = false;
                        ByteString value = ByteString.EMPTY;
                        for (Field any : fields(filter.value)) {
                            if (any.number == 1) {
                                hcm = any.value.toStringUtf8().endsWith("HttpConnectionManager");
                            } else if (any.number == 2) {
                                value = any.value;
                            }
                        }
                        if (!hcm) {
                            continue;
                        }
                        for (Field h : fields(value)) {
                            if (h.number == HttpConnectionManager.RDS_FIELD_NUMBER) {
                                for (Field r : fields(h.value)) {
                                    if (r.number == Rds.ROUTE_CONFIG_NAME_FIELD_NUMBER) {
                                        out.add(r.value.toStringUtf8());
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** The EDS name of a Cluster of type EDS (its service name, else its name), or null for other clusters. */
    static String edsName(ByteString cluster) {
        String name = null;
        String serviceName = null;
        boolean eds = false;
        try {
            CodedInputStream in = cluster.newCodedInput();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int number = WireFormat.getTagFieldNumber(tag);
                if (number == Cluster.NAME_FIELD_NUMBER) {
                    name = in.readStringRequireUtf8();
                } else if (number == Cluster.TYPE_FIELD_NUMBER) {
                    eds = in.readEnum() == Cluster.DiscoveryType.EDS_VALUE;
                } else if (number == Cluster.EDS_CLUSTER_CONFIG_FIELD_NUMBER) {
                    for (Field f : fields(in.readBytes())) {
                        if (f.number == Cluster.EdsClusterConfig.SERVICE_NAME_FIELD_NUMBER) {
                            serviceName = f.value.toStringUtf8();
                        }
                    }
                } else {
                    in.skipField(tag);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!eds) {
            return null;
        }
        return serviceName == null || serviceName.isEmpty() ? name : serviceName;
    }

    /** One length-delimited field (other wire types are skipped). */
    record Field(int number, ByteString value) { }

    static List<Field> fields(ByteString message) {
        List<Field> out = new ArrayList<>();
        forEachField(message, out::add);
        return out;
    }

    static void forEachField(ByteString message, Consumer<Field> consumer) {
        try {
            CodedInputStream in = message.newCodedInput();
            in.enableAliasing(true);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    consumer.accept(new Field(WireFormat.getTagFieldNumber(tag), in.readBytes()));
                } else {
                    in.skipField(tag);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
