package dev.septa.e2e.polyglot;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The mixed mesh of the Polyglot suite, generated: three segments (web, api, db), each with one grpc-java and one
 * C-core (Python) workload, each workload its own Service; Allow intents with method and path rules, an enforced Deny,
 * a DryRun Deny and a default deny. Ports are free ones of this machine (the C-core binds the wildcard address).
 */
record PolyglotMesh(String namespace, List<Member> members, List<String> paths) {
    enum Implementation { JAVA, CORE }

    /** One workload: {@code name} is also its Service and service account. */
    record Member(String name, String app, Implementation implementation, String address, int port) {
        String id() {
            return "poly/" + name;
        }

        String target() {
            return name + ".poly:" + port;
        }

        String spiffeId() {
            return "spiffe://cluster.local/ns/poly/sa/" + name;
        }
    }

    static PolyglotMesh generate() throws IOException {
        int subnet = ThreadLocalRandom.current().nextInt(100, 250);
        List<Member> members = new ArrayList<>();
        int host = 1;
        for (String app : List.of("web", "api", "db")) {
            for (Implementation implementation : Implementation.values()) {
                String name = app + "-" + (implementation == Implementation.JAVA ? "java" : "core");
                members.add(new Member(name, app, implementation, "127.0." + subnet + "." + host++, freePort()));
            }
        }
        return new PolyglotMesh("poly", List.copyOf(members),
                List.of("/poly.Api/Get", "/poly.Api/AdminReset", "/poly.Db/Read", "/poly.Db/Drop", "/poly.Health/Check", "/poly.Other/Ping"));
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    List<Member> of(String app) {
        return members.stream().filter(m -> m.app().equals(app)).toList();
    }

    void write(Path intents, Path inventory) throws IOException {
        Files.createDirectories(intents);
        var inv = new StringBuilder();
        for (Member m : members) {
            inv.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Workload
                    metadata: {name: %1$s, namespace: poly, labels: {app: %2$s, instance: %1$s}}
                    spec:
                      serviceAccount: %1$s
                      address: %3$s
                      ports: [{name: grpc, port: %4$d, protocol: GRPC}]
                    ---
                    apiVersion: septa.dev/v1alpha1
                    kind: Service
                    metadata: {name: %1$s, namespace: poly}
                    spec:
                      selector: {instance: %1$s}
                      ports: [{name: grpc, port: %4$d, protocol: GRPC}]
                    ---
                    """.formatted(m.name(), m.app(), m.address(), m.port()));
        }
        Files.writeString(inventory, inv.toString());
        Files.writeString(intents.resolve("mesh.yaml"), """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec:
                  trustDomain: cluster.local
                  defaultAction: Deny
                  mtls: Strict
                """);
        var segments = new StringBuilder();
        for (String app : List.of("web", "api", "db")) {
            segments.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Segment
                    metadata: {name: %1$s, namespace: poly}
                    spec:
                      selector:
                        matchLabels: {app: %1$s}
                    ---
                    """.formatted(app));
        }
        segments.append("""
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: everything, namespace: poly}
                spec:
                  selector: {}
                """);
        Files.writeString(intents.resolve("segments.yaml"), segments.toString());
        writeIntents(intents, List.of("/poly.Db/Drop"));
    }

    /** The intents; {@code neverOnDb} are the paths the enforced Deny forbids from api to db (the policy edit changes it). */
    void writeIntents(Path intents, List<String> neverOnDb) throws IOException {
        String text = intent("web-may-call-api", "Allow", "Enforce", "web", "api", "[POST]", "[\"/poly.Api/*\"]")
                + intent("web-admin-under-review", "Deny", "DryRun", "web", "api", null, "[\"/poly.Api/Admin*\"]")
                + intent("web-may-get-db", "Allow", "Enforce", "web", "db", "[GET]", "[\"/poly.Db/Read\"]")
                + intent("api-may-use-db", "Allow", "Enforce", "api", "db", null, "[\"/poly.Db/*\"]")
                + intent("api-never-on-db", "Deny", "Enforce", "api", "db", null,
                        neverOnDb.stream().map(p -> "\"" + p + "\"").toList().toString())
                + intent("db-may-check-everyone", "Allow", "Enforce", "db", "everything", null, "[\"/poly.Health/Check\"]");
        Path file = intents.resolve("intents.yaml");
        Path next = intents.resolve(".intents.yaml.tmp");
        Files.writeString(next, text);
        Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private String intent(String name, String action, String mode, String from, String to, String methods, String paths) {
        List<Member> targets = to.equals("everything") ? members : of(to);
        var ports = new StringBuilder();
        for (Member m : targets) {
            ports.append("      - port: ").append(m.port()).append("\n        protocol: GRPC\n        http:\n");
            if (methods != null) {
                ports.append("          methods: ").append(methods).append('\n');
            }
            ports.append("          paths: ").append(paths).append('\n');
        }
        return """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: %s, namespace: poly}
                spec:
                  action: %s
                  mode: %s
                  from:
                    - segment: %s
                  to:
                    segment: %s
                    ports:
                %s---
                """.formatted(name, action, mode, from, to, ports);
    }
}
