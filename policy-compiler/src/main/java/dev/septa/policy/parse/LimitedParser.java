package dev.septa.policy.parse;

import dev.septa.policy.parse.YamlLimits.LimitExceededException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.parser.Parser;

/**
 * A SnakeYAML parser that checks {@link YamlLimits} on each event it hands to the composer, so the composer never
 * recurses past the depth limit nor builds a document whose aliases expand past the expansion limit. An anchored
 * node's size is its scalar characters plus one per node, aliases included; each alias adds its anchor's size.
 */
final class LimitedParser implements Parser {
    private final Parser parser;
    private final YamlLimits limits;
    /** The collections open at this point, innermost first: the size so far and the anchor, if any. */
    private final Deque<Open> open = new ArrayDeque<>();
    private final Map<Anchor, Long> anchorSizes = new HashMap<>();
    private long expansion;

    LimitedParser(Parser parser, YamlLimits limits) {
        this.parser = parser;
        this.limits = limits;
    }

    private static final class Open {
        final Anchor anchor;
        long size = 1;

        Open(Anchor anchor) {
            this.anchor = anchor;
        }
    }

    @Override
    public boolean checkEvent(Event.ID choice) {
        return parser.checkEvent(choice);
    }

    @Override
    public Event peekEvent() {
        return parser.peekEvent();
    }

    @Override
    public boolean hasNext() {
        return parser.hasNext();
    }

    @Override
    public Event next() {
        Event event = parser.next();
        switch (event.getEventId()) {
            case DocumentStart -> {
                anchorSizes.clear();
                open.clear();
                expansion = 0;
            }
            case SequenceStart, MappingStart -> {
                if (open.size() >= limits.maxDepth()) {
                    throw new LimitExceededException(mark(event), "nested more than " + limits.maxDepth()
                            + " levels deep; the deepest nesting read is " + limits.maxDepth());
                }
                open.push(new Open(((NodeEvent) event).getAnchor().orElse(null)));
            }
            case SequenceEnd, MappingEnd -> {
                Open closed = open.pop();
                if (closed.anchor != null) {
                    anchorSizes.put(closed.anchor, closed.size);
                }
                add(closed.size);
            }
            case Scalar -> {
                ScalarEvent scalar = (ScalarEvent) event;
                if (scalar.getValue().length() > limits.maxScalarLength()) {
                    throw new LimitExceededException(mark(event), "a value of " + scalar.getValue().length()
                            + " characters; the longest value read is " + limits.maxScalarLength());
                }
                long size = 1L + scalar.getValue().length();
                scalar.getAnchor().ifPresent(a -> anchorSizes.put(a, size));
                add(size);
            }
            case Alias -> {
                Anchor anchor = ((AliasEvent) event).getAlias();
                for (Open o : open) {
                    if (anchor.equals(o.anchor)) {
                        throw new LimitExceededException(mark(event), "alias *" + anchor + " refers to a node that contains it");
                    }
                }
                long size = anchorSizes.getOrDefault(anchor, 0L); // an undefined alias is the composer's error
                expansion += size;
                if (expansion > limits.maxAliasExpansion()) {
                    throw new LimitExceededException(mark(event), "aliases expand to more than " + limits.maxAliasExpansion()
                            + " characters and nodes; the most aliases may add to a document is " + limits.maxAliasExpansion());
                }
                add(size);
            }
            default -> { }
        }
        return event;
    }

    private void add(long size) {
        if (!open.isEmpty()) {
            open.peek().size += size;
        }
    }

    private static Mark mark(Event event) {
        return event.getStartMark().orElse(null);
    }
}
