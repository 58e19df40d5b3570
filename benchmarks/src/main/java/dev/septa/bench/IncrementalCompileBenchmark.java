package dev.septa.bench;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.IncrementalCompiler;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.util.ArrayList;
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

/**
 * One narrow edit (an intent file rewritten, two apps affected) on the fleet benchmark's mesh, compiled from YAML:
 * {@code incremental} as the control plane does it ({@link IncrementalCompiler}), {@code full} as before (parse
 * every file, emit every proxy). Run: {@code java -jar benchmarks/target/benchmarks.jar IncrementalCompile -f 1 -wi 3 -i 5}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
public class IncrementalCompileBenchmark {
    @Param({"1000", "10000"})
    int workloads;

    List<InputFile> base;
    IncrementalCompiler compiler;
    int apps;
    int edit;

    @Setup
    public void generate() {
        apps = workloads / 10;
        base = List.of(new InputFile("intents/intents.yaml", FleetBenchmark.chainYaml(apps)),
                new InputFile("intents/mesh.yaml", FleetBenchmark.meshYaml("Deny")),
                new InputFile("intents/segments.yaml", FleetBenchmark.segmentsYaml(apps)),
                new InputFile("inventory.yaml", FleetBenchmark.inventoryYaml(workloads, apps)));
        compiler = new IncrementalCompiler();
        compiler.compile(base);
    }

    /** The next edit: app-i may call app-(i+2), a different pair each time, so the memo never has the answer ready. */
    private List<InputFile> edited() {
        int from = edit++ % (apps - 2);
        List<InputFile> files = new ArrayList<>(base);
        files.add(1, new InputFile("intents/extra.yaml", FleetBenchmark.intentYaml("extra", from, from + 2)));
        return files;
    }

    @Benchmark
    public CompileResult incremental() {
        return check(compiler.compile(edited()));
    }

    @Benchmark
    public CompileResult full() {
        return check(PolicyCompiler.compile(edited()));
    }

    private static CompileResult check(CompileResult result) {
        if (result.mesh().isEmpty()) {
            throw new IllegalStateException("the edited mesh did not compile: " + result.diagnostics());
        }
        return result;
    }
}
