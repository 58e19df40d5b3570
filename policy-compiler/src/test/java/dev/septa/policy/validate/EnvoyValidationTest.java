package dev.septa.policy.validate;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.compile.TestInputs;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every resource of every golden mesh passes Envoy's own protoc-gen-validate rules; and the harness can fail. */
class EnvoyValidationTest {

    @TestFactory
    Stream<DynamicTest> everyGoldenResourceIsValid() throws IOException {
        List<Path> cases;
        try (Stream<Path> s = Files.list(Path.of("src/test/resources/golden"))) {
            cases = s.filter(Files::isDirectory).sorted().toList();
        }
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.getFileName().toString(), () -> {
            CompiledMesh mesh = PolicyCompiler.compile(TestInputs.load(TestInputs.inputDir(c))).mesh().orElseThrow();
            int count = 0;
            for (var proxy : mesh.proxies().values()) {
                for (Dialect d : Dialect.values()) {
                    for (Message m : all(proxy.resources(d))) {
                        try {
                            EnvoyResourceValidation.assertValid(m);
                        } catch (AssertionError e) {
                            throw new AssertionError(proxy.workloadId() + " " + d + ": " + e.getMessage(), e);
                        }
                        count++;
                    }
                }
            }
            org.assertj.core.api.Assertions.assertThat(count).isPositive();
        }));
    }

    static List<Message> all(ProxyResources r) {
        List<Message> out = new ArrayList<>();
        out.addAll(r.listeners());
        out.addAll(r.routes());
        out.addAll(r.clusters());
        out.addAll(r.endpoints());
        return out;
    }

    /** If the generated validators were missing from the classpath, everything would pass: this must fail. */
    @Test
    void ruleViolationDeepInsideAnAnyIsCaught() {
        HttpConnectionManager noStatPrefix = HttpConnectionManager.newBuilder().setStatPrefix("")
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")).build();
        Listener listener = Listener.newBuilder().setName("x")
                .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder().setName("hcm").setTypedConfig(Any.pack(noStatPrefix))))
                .build();
        assertThatThrownBy(() -> EnvoyResourceValidation.assertValid(listener))
                .isInstanceOf(AssertionError.class).hasMessageContaining("stat_prefix");
    }

    /** The HTTP RBAC filter's proto has no validator: the walk must still reach the rules inside it. */
    @Test
    void ruleViolationInsideUnvalidatedTypeIsCaught() {
        var rbac = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                .setRules(RBAC.newBuilder().putPolicies("empty", Policy.getDefaultInstance())).build();
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix("in").setRouteConfig(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDefaultInstance())
                .addHttpFilters(HttpFilter.newBuilder().setName("septa.allow").setTypedConfig(Any.pack(rbac))).build();
        assertThatThrownBy(() -> EnvoyResourceValidation.assertValid(hcm))
                .isInstanceOf(AssertionError.class).hasMessageContaining("permissions");
    }

    @Test
    void unknownAnyTypeFails() {
        Listener listener = Listener.newBuilder().setName("x").addFilterChains(FilterChain.newBuilder()
                .addFilters(Filter.newBuilder().setName("f").setTypedConfig(Any.pack(com.google.protobuf.StringValue.of("?"))))).build();
        assertThatThrownBy(() -> EnvoyResourceValidation.assertValid(listener)).hasMessageContaining("unknown type");
    }

    @Test
    void validResourcePasses() {
        assertThatCode(() -> EnvoyResourceValidation.assertValid(Listener.newBuilder().setName("ok").build())).doesNotThrowAnyException();
    }
}
