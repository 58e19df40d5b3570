package dev.septa.policy.parse;

import java.util.Iterator;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

/**
 * The bounds every YAML text Septa reads is held to, so that no input can exhaust the stack, the heap or the CPU of
 * the control plane: a nesting depth (SnakeYAML's composer recurses once per level), a scalar length, and the
 * content that aliases may add (a "billion laughs" file is small and expands without bound). SnakeYAML Engine has
 * no depth or expansion limit of its own (only {@code maxAliasesForCollections} and a code-point limit), so the
 * events are checked on their way from the parser to the composer ({@link LimitedParser}).
 *
 * <p>Before anything is scanned, the text is searched for a run of more than {@link #maxScalarLength()} characters
 * without a space or line break: SnakeYAML's reader copies its whole window each time a token outgrows a buffer,
 * so scanning one 50 MB word is quadratic (minutes) although its content would be refused anyway.
 *
 * @param maxDepth          collections nested deeper than this are refused
 * @param maxScalarLength   longest scalar, in characters (also the longest run without whitespace)
 * @param maxAliasExpansion characters and nodes that all alias references of one document may add together
 * @param maxCodePoints     longest text
 */
public record YamlLimits(int maxDepth, int maxScalarLength, long maxAliasExpansion, int maxCodePoints) {
    /**
     * Policy files, inventories and rendered Kubernetes objects. Nothing in the policy language nests past about 8
     * levels or needs a value past a few hundred characters; large inventories (10k workloads in one file) are
     * legitimate, hence the large text limit.
     */
    public static final YamlLimits POLICY = new YamlLimits(64, 64 * 1024, 1024 * 1024, 256 * 1024 * 1024);
    /**
     * Kubernetes objects read by {@code septa inject}: pod specs nest deeper than policy, and an annotation (such as
     * kubectl's last-applied-configuration, one JSON line) may hold up to the API server's 256 KiB.
     */
    public static final YamlLimits KUBERNETES = new YamlLimits(100, 1024 * 1024, 1024 * 1024, 16 * 1024 * 1024);

    /** SnakeYAML's default of 1,024 makes every token longer than a buffer cost a copy of the window per buffer. */
    private static final int READ_BUFFER = 64 * 1024;

    /** A text that exceeds a limit, with the position (1-based) where it did. */
    public static final class LimitExceededException extends MarkedYamlEngineException {
        private final int line;
        private final int column;

        LimitExceededException(Mark mark, String problem) {
            super("", java.util.Optional.empty(), problem, java.util.Optional.ofNullable(mark));
            this.line = mark == null ? 1 : mark.getLine() + 1;
            this.column = mark == null ? 1 : mark.getColumn() + 1;
        }

        LimitExceededException(int line, int column, String problem) {
            super("", java.util.Optional.empty(), problem, java.util.Optional.empty());
            this.line = line;
            this.column = column;
        }

        public int line() {
            return line;
        }

        public int column() {
            return column;
        }
    }

    /** Load settings for a text named {@code label}, with these limits' text size and a larger read buffer. */
    public LoadSettings settings(String label) {
        return LoadSettings.builder().setLabel(label).setAllowDuplicateKeys(true)
                .setCodePointLimit(maxCodePoints).setBufferSize(READ_BUFFER).build();
    }

    /**
     * The documents of {@code text}, composed one by one under these limits as the iterator is advanced.
     *
     * @throws LimitExceededException where a limit is exceeded
     * @throws org.snakeyaml.engine.v2.exceptions.YamlEngineException for malformed YAML, as SnakeYAML reports it
     */
    public Iterator<Node> composeAll(String text, LoadSettings settings) {
        checkRuns(text);
        return new Composer(settings, new LimitedParser(new ParserImpl(settings, new StreamReader(settings, text)), this));
    }

    /** Refuses a run of non-whitespace longer than a scalar may be, before the scanner spends quadratic time on it. */
    void checkRuns(String text) {
        int line = 1;
        int runStart = 0;
        int lineStart = 0;
        int run = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                lineStart = i + 1;
                run = 0;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                run = 0;
            } else {
                if (run == 0) {
                    runStart = i;
                }
                if (++run > maxScalarLength) {
                    throw new LimitExceededException(line, runStart - lineStart + 1, "a value of more than "
                            + maxScalarLength + " characters without a space or line break; the longest value read is "
                            + maxScalarLength + " characters");
                }
            }
        }
    }
}
