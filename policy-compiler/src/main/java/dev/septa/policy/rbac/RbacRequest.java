package dev.septa.policy.rbac;

import java.util.HashMap;
import java.util.Map;

/**
 * What an RBAC filter sees of a request: the peer's authenticated principal (the URI SAN of its certificate;
 * null on a plaintext connection), the destination port, and the request headers ({@code :method}, {@code :path},
 * lower-case names). A network filter sees no headers; a missing header is absent, never empty.
 * {@code urlPathKeepsQuery}: grpc-java's RBAC matches {@code url_path} against {@code "/" + fullMethodName}, query
 * and fragment included; Envoy's strips them.
 */
public record RbacRequest(String principal, int destinationPort, Map<String, String> headers, boolean urlPathKeepsQuery) {
    public static final String METHOD = ":method";
    public static final String PATH = ":path";

    public RbacRequest {
        headers = Map.copyOf(headers);
    }

    public RbacRequest(String principal, int destinationPort, Map<String, String> headers) {
        this(principal, destinationPort, headers, false);
    }

    /** The same request as grpc-java's server RBAC sees it: {@code url_path} is the whole {@code :path}. */
    public RbacRequest asGrpcServerSeesIt() {
        return new RbacRequest(principal, destinationPort, headers, true);
    }

    /** An HTTP request; a null method or path is a header the request does not carry. */
    public static RbacRequest http(String principal, int destinationPort, String method, String path) {
        var headers = new HashMap<String, String>();
        if (method != null) {
            headers.put(METHOD, method);
        }
        if (path != null) {
            headers.put(PATH, path);
        }
        return new RbacRequest(principal, destinationPort, headers);
    }

    /** A connection as a network (L4) filter sees it: no headers. */
    public static RbacRequest connection(String principal, int destinationPort) {
        return new RbacRequest(principal, destinationPort, Map.of());
    }

    /** The same request without its headers, as a network filter in front of the HTTP filters sees it. */
    public RbacRequest withoutHeaders() {
        return headers.isEmpty() ? this : connection(principal, destinationPort);
    }

    /**
     * {@code :path} without its query string and fragment, which is what Envoy's {@code url_path} matches
     * ({@code Http::PathUtil::removeQueryAndFragment}).
     */
    String urlPath() {
        String path = headers.get(PATH);
        if (path == null || urlPathKeepsQuery) {
            return path;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                return path.substring(0, i);
            }
        }
        return path;
    }
}
