package dev.septa.cli;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code septa validate -f PATH...}: parse, resolve and lint; prints every diagnostic. Exit 0 valid, 2 errors. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Parse and lint intents and inventory; print diagnostics as file:line:col: error|warning: message.")
public final class ValidateCommand implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true, arity = "1..*", paramLabel = "PATH",
            description = "YAML files or folders (read recursively for *.yaml, *.yml)")
    List<Path> paths;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<CompileResult> compiled = PolicyFiles.compile(paths, err);
        if (compiled.isEmpty()) {
            return 2;
        }
        CompileResult result = compiled.get();
        result.diagnostics().forEach(d -> out.println(d));
        long errors = result.diagnostics().stream().filter(Diagnostic::isError).count();
        long warnings = result.diagnostics().size() - errors;
        (errors > 0 ? err : out).println(errors > 0
                ? errors + " error(s), " + warnings + " warning(s)"
                : "valid (" + warnings + " warning(s))");
        return errors > 0 ? 2 : 0;
    }
}
