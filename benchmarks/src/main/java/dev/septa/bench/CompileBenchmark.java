package dev.septa.bench;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Full compile (resolve, lower, emit both dialects for every proxy; parsing excluded) of a generated mesh with
 * 2,000 intents. Run: {@code java -jar benchmarks/target/benchmarks.jar Compile -f 1 -wi 2 -i 3}.
 * Goal: 10k workloads under 2 s on 2 cores, 10k/1k time at most 12.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx3g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class CompileBenchmark {
    @Param({"1000", "10000"})
    int workloads;

    @Param({"2000"})
    int intents;

    Mesh mesh;

    @Setup
    public void generate() {
        mesh = SyntheticMesh.generate(workloads, intents);
    }

    @Benchmark
    public CompileResult compile() {
        CompileResult result = PolicyCompiler.compile(mesh);
        if (result.mesh().isEmpty()) {
            throw new IllegalStateException("synthetic mesh did not compile: " + result.diagnostics());
        }
        return result;
    }
}
