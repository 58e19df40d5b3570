package dev.septa.bench;

import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import java.util.List;
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

/** Parsing alone (YAML text to model, all checks) of the synthetic mesh. Run: {@code java -jar benchmarks/target/benchmarks.jar ParseBenchmark}. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx3g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class ParseBenchmark {
    @Param({"1000", "10000"})
    int workloads;

    List<InputFile> files;

    @Setup
    public void generate() {
        files = SyntheticMesh.yaml(SyntheticMesh.generate(workloads, 2000));
        ParseResult r = MeshParser.parse(files);
        if (r.hasErrors()) {
            throw new IllegalStateException("synthetic YAML does not parse: " + r.diagnostics().subList(0, Math.min(5, r.diagnostics().size())));
        }
    }

    @Benchmark
    public ParseResult parse() {
        return MeshParser.parse(files);
    }
}
