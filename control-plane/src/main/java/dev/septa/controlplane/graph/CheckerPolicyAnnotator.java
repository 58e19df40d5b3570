package dev.septa.controlplane.graph;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The {@code septa check} evaluator ({@link Checker}) over the compiled mesh in force, as a {@link PolicyAnnotator}.
 * Answers are cached per query until the next policy change ({@link #meshApplied}); the cache is dropped whole when
 * it reaches {@link #MAX_CACHED} entries, so a caller spraying paths cannot grow it without bound.
 */
public final class CheckerPolicyAnnotator implements PolicyAnnotator {
    static final int MAX_CACHED = 50_000;

    private record Key(String from, String to, int port, String method, String path) { }

    private record Checkers(Checker envoy, Checker grpc) { }

    private final Function<String, Optional<Dialect>> dialectOf;
    private volatile Checkers checkers;
    private volatile Map<Key, Optional<Annotation>> cache = new ConcurrentHashMap<>();

    /** @param dialectOf the dialect a destination node connected with, if known (proxyless → the gRPC resources) */
    public CheckerPolicyAnnotator(Function<String, Optional<Dialect>> dialectOf) {
        this.dialectOf = dialectOf;
    }

    /** The control plane calls this after every applied compile. */
    public void meshApplied(CompiledMesh compiled) {
        checkers = new Checkers(new Checker(compiled, Dialect.ENVOY), new Checker(compiled, Dialect.GRPC));
        cache = new ConcurrentHashMap<>();
    }

    @Override
    public Optional<Annotation> annotate(String from, String to, int port, String method, String path) {
        Checkers c = checkers;
        if (c == null) {
            return Optional.empty();
        }
        Map<Key, Optional<Annotation>> answers = cache;
        Key key = new Key(from, to, port, method, path);
        Optional<Annotation> known = answers.get(key);
        if (known != null) {
            return known;
        }
        Optional<Annotation> answer = evaluate(c, key);
        if (answers.size() >= MAX_CACHED) {
            answers.clear();
        }
        answers.put(key, answer);
        return answer;
    }

    private Optional<Annotation> evaluate(Checkers c, Key k) {
        Checker checker = dialectOf.apply(k.to()).orElse(Dialect.ENVOY) == Dialect.GRPC ? c.grpc() : c.envoy();
        if (!checker.knows(k.from()) || !checker.knows(k.to())) {
            return Optional.empty();
        }
        try {
            Decision d = checker.check(new Query(k.from(), k.to(), k.port(), k.method(), k.path()));
            return Optional.of(new Annotation(d.allowed() ? Verdict.ALLOW : Verdict.DENY, d.by(), d.wouldDenyBy().orElse(null)));
        } catch (IllegalArgumentException e) { // includes UnknownWorkloadException
            return Optional.empty();
        }
    }
}
