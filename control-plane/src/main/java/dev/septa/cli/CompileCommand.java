package dev.septa.cli;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledMeshFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code septa compile -f PATH... --out DIR}: writes every proxy's resources as proto3 JSON,
 * {@code DIR/<ns>/<name>/<envoy|grpc>/{listeners,routes,clusters,endpoints}.json}. Exit 2 on bad input
 * (nothing is written then).
 */
@Command(name = "compile", mixinStandardHelpOptions = true,
        description = "Compile intents and inventory into every proxy's xDS resources (proto3 JSON, one folder per proxy).")
public final class CompileCommand implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true, arity = "1..*", paramLabel = "PATH",
            description = "YAML files or folders (read recursively for *.yaml, *.yml)")
    List<Path> paths;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Optional<CompileResult> compiled = PolicyFiles.compile(paths, err);
        if (compiled.isEmpty()) {
            return 2;
        }
        CompileResult result = compiled.get();
        result.diagnostics().forEach(err::println);
        if (result.mesh().isEmpty()) {
            err.println("not compiled: fix the errors above");
            return 2;
        }
        CompiledMesh mesh = result.mesh().get();
        try {
            for (Map.Entry<String, String> e : CompiledMeshFiles.files(mesh).entrySet()) {
                Path file = out.resolve(e.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, e.getValue());
            }
        } catch (IOException e) {
            err.println(out + ": cannot write: " + e.getMessage());
            return 2;
        }
        spec.commandLine().getOut().println("compiled " + mesh.proxies().size() + " proxies into " + out);
        return 0;
    }
}
