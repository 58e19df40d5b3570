package dev.septa.controlplane.support;

import dev.septa.cli.SeptaCli;
import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the {@code septa} command: its exit code and what it printed on stdout and stderr. */
public record SeptaRun(int exit, String out, String err) {

    public static SeptaRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new SeptaRun(exit, out.toString(), err.toString());
    }
}
