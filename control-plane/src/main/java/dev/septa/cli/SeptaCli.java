package dev.septa.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code septa} command: one executable, one subcommand per job. Exit 0 ok, 1 policy says no / findings, 2 bad input. */
@Command(name = "septa", mixinStandardHelpOptions = true, version = "septa 0.1.0",
        description = "Service-mesh microsegmentation control plane.",
        subcommands = {CommandLine.HelpCommand.class,
                ValidateCommand.class, CompileCommand.class, CheckCommand.class, RecommendCommand.class, CaCommand.class, ServeCommand.class, StatusCommand.class, QuarantineCommand.class, BootstrapCommand.class, AgentCommand.class, InjectCommand.class, DemoCommand.class, GraphCommand.class, FindingsCommand.class, AuditCommand.class})
public final class SeptaCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static CommandLine commandLine() {
        return new CommandLine(new SeptaCli());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
