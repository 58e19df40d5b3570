package dev.septa.policy.parse;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.EgressRule;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.Quarantine;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Workload;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Parses any number of YAML files (each possibly multi-document) into a {@link Mesh}, collecting every
 * diagnostic rather than stopping at the first. Pure: it reads only the texts it is handed, and never throws
 * for bad input.
 */
public final class MeshParser {
    private MeshParser() { }

    public static ParseResult parse(List<InputFile> inputs) {
        List<ParsedFile> files = new ArrayList<>(inputs.size());
        for (InputFile input : inputs) {
            files.add(parseFile(input));
        }
        return combine(files);
    }

    /**
     * Decodes one file on its own: its resources and its diagnostics depend on nothing else, so a caller may keep
     * the result for as long as the file's name and text stay the same (see {@code IncrementalCompiler}).
     */
    public static ParsedFile parseFile(InputFile input) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        Positions positions = new Positions();
        List<Object> resources = new ArrayList<>();
        List<Source> documentPositions = new ArrayList<>();
        YamlReader reader = new YamlReader(input.name(), diagnostics);
        ResourceDecoder decoder = new ResourceDecoder(reader, positions);
        for (Node doc : documents(input, diagnostics)) {
            Object resource = decoder.decode(doc);
            if (resource != null) {
                resources.add(resource);
                documentPositions.add(reader.pos(doc));
            }
        }
        return new ParsedFile(resources, documentPositions, diagnostics, positions);
    }

    /** The mesh of already decoded files, in the given order, with the checks that span files. */
    public static ParseResult combine(List<ParsedFile> files) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        Positions positions = new Positions();
        List<Segment> segments = new ArrayList<>();
        List<Intent> intents = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        List<Quarantine> quarantines = new ArrayList<>();
        List<MeshConfig> configs = new ArrayList<>();
        for (ParsedFile file : files) {
            diagnostics.addAll(file.diagnostics());
            positions.putAll(file.positions());
            for (int i = 0; i < file.resources().size(); i++) {
                switch (file.resources().get(i)) {
                    case Segment s -> segments.add(s);
                    case Intent in -> intents.add(in);
                    case Workload w -> workloads.add(w);
                    case Service s -> services.add(s);
                    case Quarantine q -> quarantines.add(q);
                    case MeshConfig c -> {
                        configs.add(c);
                        if (configs.size() > 1) {
                            diagnostics.add(Diagnostic.error(positions.of(c, file.documentPositions().get(i)),
                                    "more than one MeshConfig (the first is at " + positions.of(configs.getFirst(), Source.UNKNOWN)
                                            + "); a mesh has exactly one"));
                        }
                    }
                    default -> { }
                }
            }
        }
        checkDuplicates("Segment", segments, s -> s.metadata().qualifiedName(), positions, diagnostics);
        checkDuplicates("Intent", intents, i -> i.metadata().qualifiedName(), positions, diagnostics);
        checkDuplicates("Workload", workloads, w -> w.metadata().qualifiedName(), positions, diagnostics);
        checkDuplicates("Service", services, s -> s.metadata().qualifiedName(), positions, diagnostics);
        checkDuplicates("Quarantine", quarantines, Quarantine::qualifiedName, positions, diagnostics);
        checkSegmentReferences(intents, segments, positions, diagnostics);
        diagnostics.sort(ORDER);
        Mesh mesh = new Mesh(configs.isEmpty() ? MeshConfig.DEFAULT : configs.getFirst(), segments, intents, workloads, services,
                quarantines);
        return new ParseResult(mesh, diagnostics);
    }

    /** Diagnostics sorted by file, then line and column, so output reads top to bottom. */
    public static final Comparator<Diagnostic> ORDER = Comparator
            .comparing((Diagnostic d) -> d.source().file())
            .thenComparingInt(d -> d.source().line())
            .thenComparingInt(d -> d.source().column())
            .thenComparing(Diagnostic::message);

    private static List<Node> documents(InputFile input, List<Diagnostic> diagnostics) {
        List<Node> docs = new ArrayList<>();
        YamlLimits limits = YamlLimits.POLICY;
        try {
            for (var it = limits.composeAll(input.text(), limits.settings(input.name())); it.hasNext(); ) {
                Node node = it.next();
                if (node != null && !YamlReader.isNull(node)) {
                    docs.add(node);
                }
            }
        } catch (YamlLimits.LimitExceededException e) {
            diagnostics.add(Diagnostic.error(new Source(input.name(), e.line(), e.column()), "YAML too large: " + e.getProblem()));
            docs.clear(); // a file over a limit is refused whole: no document of it is half read
        } catch (MarkedYamlEngineException e) {
            var mark = e.getProblemMark().or(e::getContextMark);
            Source at = mark.map(m -> new Source(input.name(), m.getLine() + 1, m.getColumn() + 1))
                    .orElse(new Source(input.name(), 1, 1));
            String problem = e.getProblem() == null ? "malformed YAML" : e.getProblem();
            String context = e.getContext() == null ? "" : " (" + e.getContext() + ")";
            diagnostics.add(Diagnostic.error(at, "YAML syntax error: " + problem + context));
        } catch (YamlEngineException e) {
            diagnostics.add(Diagnostic.error(new Source(input.name(), 1, 1), "YAML syntax error: " + firstLine(e.getMessage())));
        }
        return docs;
    }

    private static String firstLine(String s) {
        return s == null ? "malformed YAML" : s.lines().findFirst().orElse(s);
    }

    private static <T> void checkDuplicates(String kind, List<T> items, java.util.function.Function<T, String> key,
                                            Positions positions, List<Diagnostic> diagnostics) {
        Map<String, T> first = new HashMap<>();
        for (T item : items) {
            T previous = first.putIfAbsent(key.apply(item), item);
            if (previous != null) {
                diagnostics.add(Diagnostic.error(positions.of(item, Source.UNKNOWN), "duplicate " + kind + " '" + key.apply(item)
                        + "' (first defined at " + positions.of(previous, Source.UNKNOWN) + ")"));
            }
        }
    }

    private static void checkSegmentReferences(List<Intent> intents, List<Segment> segments, Positions positions,
                                               List<Diagnostic> diagnostics) {
        Map<String, Segment> byName = new TreeMap<>();
        segments.forEach(s -> byName.putIfAbsent(s.ref().toString(), s));
        Set<String> known = byName.keySet();
        for (Intent intent : intents) {
            List<SegmentRef> refs = new ArrayList<>();
            for (Peer p : intent.from()) {
                if (p instanceof Peer.SegmentPeer sp) {
                    refs.add(sp.segment());
                }
            }
            refs.add(intent.to().segment());
            for (SegmentRef ref : refs) {
                if (!known.contains(ref.toString())) {
                    diagnostics.add(Diagnostic.error(positions.of(ref, intent.source()), "Intent '" + intent.qualifiedName()
                            + "' names segment '" + ref + "', which does not exist" + Suggestions.didYouMean(ref.toString(), known)));
                }
            }
        }
        // A Segment's egress naming an unknown segment is an error too: it would silently route nothing.
        for (Segment segment : segments) {
            if (segment.egress() == null) {
                continue;
            }
            for (EgressRule rule : segment.egress()) {
                if (rule instanceof EgressRule.SegmentRule sr && !known.contains(sr.segment().toString())) {
                    diagnostics.add(Diagnostic.error(positions.of(sr.segment(), segment.source()), "Segment '" + segment.ref()
                            + "' names segment '" + sr.segment() + "' in 'spec.egress', which does not exist"
                            + Suggestions.didYouMean(sr.segment().toString(), known)));
                }
            }
        }
    }
}
