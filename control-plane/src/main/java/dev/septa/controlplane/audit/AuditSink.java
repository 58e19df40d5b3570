package dev.septa.controlplane.audit;

import java.io.IOException;
import java.io.PrintStream;

/** Where audit lines go: a rotated file in the state directory, or standard output (Kubernetes). One writer thread. */
public interface AuditSink extends AutoCloseable {
    /** Appends one line (without its line break) whole, or throws; a line is never split across files. */
    void append(String line) throws IOException;

    /** For messages: the file or stream written. */
    String describe();

    @Override
    default void close() throws IOException {}

    /** Standard output in Kubernetes mode, where the node's log collector keeps and ships it. */
    static AuditSink stream(PrintStream out, String name) {
        return new AuditSink() {
            @Override
            public void append(String line) throws IOException {
                out.println(line);
                if (out.checkError()) {
                    throw new IOException("cannot write to " + name);
                }
            }

            @Override
            public String describe() {
                return name;
            }
        };
    }
}
