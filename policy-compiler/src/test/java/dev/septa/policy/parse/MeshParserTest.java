package dev.septa.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.SegmentRef;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshParserTest {

    @Test
    void readsEveryKindFromMultiDocumentFiles() {
        ParseResult r = MeshParser.parse(List.of(new InputFile("a.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec: {trustDomain: example.org, defaultAction: Allow, certificateTTL: 1h30m}
                ---
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: pay, namespace: shop}
                spec: {selector: {matchLabels: {app: pay}}}
                ---
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: i, namespace: shop}
                spec:
                  action: Deny
                  mode: DryRun
                  from: [{segment: billing/inv}, {namespace: ops}]
                  to: {segment: pay, ports: [{port: 8443, protocol: GRPC, http: {methods: [POST], paths: ["/a/*"]}}]}
                """), new InputFile("b.yml", """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: inv, namespace: billing}
                spec: {selector: {}}
                """)));
        assertThat(r.diagnostics()).isEmpty();
        assertThat(r.mesh().config().trustDomain()).isEqualTo("example.org");
        assertThat(r.mesh().config().defaultAction()).isEqualTo(DefaultAction.ALLOW);
        assertThat(r.mesh().config().certificateTTL()).isEqualTo(Duration.ofMinutes(90));
        var intent = r.mesh().intents().getFirst();
        assertThat(intent.action()).isEqualTo(Action.DENY);
        assertThat(intent.mode()).isEqualTo(Mode.DRY_RUN);
        assertThat(intent.from()).containsExactly(new Peer.SegmentPeer(new SegmentRef("billing", "inv")), new Peer.NamespacePeer("ops"));
        var port = intent.to().ports().getFirst();
        assertThat(port.protocol()).isEqualTo(Protocol.GRPC);
        assertThat(port.http()).isEqualTo(new HttpMatch(List.of("POST"), List.of("/a/*")));
        assertThat(intent.source().toString()).isEqualTo("a.yaml:11:1");
        assertThat(r.mesh().segments()).hasSize(2);
    }

    @Test
    void reportsAllErrorsOfAllFilesAtOnceInPositionOrder() {
        ParseResult r = MeshParser.parse(List.of(
                new InputFile("z.yaml", "apiVersion: septa.dev/v1alpha1\nkind: Wat\nmetadata: {name: a}\n"),
                new InputFile("a.yaml", "key: [unclosed\n"),
                new InputFile("m.yaml", """
                        apiVersion: septa.dev/v1alpha1
                        kind: Workload
                        metadata: {name: w, namespace: shop}
                        spec: {serviceAccount: w, address: 10.0.0.1, ports: [{port: 1, protocol: UDP}, {port: 65536}]}
                        """)));
        assertThat(r.hasErrors()).isTrue();
        assertThat(r.diagnostics()).extracting(d -> d.source().file()).containsExactly("a.yaml", "m.yaml", "m.yaml", "z.yaml");
        assertThat(r.diagnostics()).allMatch(Diagnostic::isError);
    }

    @Test
    void syntaxErrorInOneDocumentKeepsEarlierDocuments() {
        ParseResult r = MeshParser.parse(List.of(new InputFile("a.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: ok, namespace: shop}
                spec: {selector: {}}
                ---
                kind: [
                """)));
        assertThat(r.mesh().segments()).hasSize(1);
        assertThat(r.diagnostics()).singleElement().satisfies(d -> assertThat(d.toString()).startsWith("a.yaml:7:1: error: YAML syntax error"));
    }

    @Test
    void suggestionsAreCaseInsensitiveAndBounded() {
        assertThat(Suggestions.closest("dryrun", List.of("Enforce", "DryRun"))).contains("DryRun");
        assertThat(Suggestions.closest("zzzzzz", List.of("Enforce", "DryRun"))).isEmpty();
    }
}
