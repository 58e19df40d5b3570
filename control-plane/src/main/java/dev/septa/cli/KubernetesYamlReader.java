package dev.septa.cli;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.policy.parse.YamlLimits;
import dev.septa.sidecar.inject.WorkloadInjector;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.constructor.StandardConstructor;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads the injectable Kubernetes objects of one multi-document YAML text into fabric8's model, keeping each
 * document's line so that every problem is reported as {@code file:line:col: what is wrong}.
 */
final class KubernetesYamlReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One document: the object and where it starts. */
    record Document(HasMetadata resource, int line) {
    }

    /** Bad input, already phrased for the user. */
    static final class BadInput extends Exception {
        BadInput(String message) {
            super(message);
        }
    }

    private KubernetesYamlReader() {
    }

    static List<Document> read(String file, String text) throws BadInput {
        YamlLimits limits = YamlLimits.KUBERNETES;
        LoadSettings settings = limits.settings(file);
        List<Document> documents = new ArrayList<>();
        try {
            for (var it = limits.composeAll(text, settings); it.hasNext(); ) {
                Node node = it.next();
                Document document = document(file, settings, node);
                if (document != null) {
                    documents.add(document);
                }
            }
        } catch (YamlLimits.LimitExceededException e) {
            throw new BadInput(file + ":" + e.line() + ":" + e.column() + ": YAML too large: " + e.getProblem());
        } catch (MarkedYamlEngineException e) {
            Mark mark = e.getProblemMark().orElse(e.getContextMark().orElse(null));
            throw new BadInput(mark == null ? file + ": " + e.getProblem()
                    : at(file, mark) + "YAML syntax: " + e.getProblem());
        } catch (YamlEngineException e) {
            throw new BadInput(file + ": YAML: " + e.getMessage());
        }
        return documents;
    }

    private static Document document(String file, LoadSettings settings, Node node) throws BadInput {
        Object value = new StandardConstructor(settings).constructSingleDocument(Optional.of(node));
        if (value == null) {
            return null; // an empty document between two ---
        }
        if (!(node instanceof MappingNode) || !(value instanceof Map<?, ?> map)) {
            throw new BadInput(at(file, node) + "expected a Kubernetes object (a mapping with apiVersion, kind and metadata)");
        }
        Object kind = map.get("kind");
        if (!(kind instanceof String kindName) || kindName.isBlank()) {
            throw new BadInput(at(file, node) + "missing 'kind'; expected one of " + String.join(", ", WorkloadInjector.KIND_NAMES));
        }
        Class<? extends HasMetadata> type = WorkloadInjector.KINDS.get(kindName);
        if (type == null) {
            throw new BadInput(at(file, child(node, "kind").orElse(node)) + "kind '" + kindName
                    + "' has no pods to inject; expected one of " + String.join(", ", WorkloadInjector.KIND_NAMES));
        }
        try {
            return new Document(JSON.convertValue(map, type), line(node));
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof JsonMappingException mapping) {
                Node at = node;
                StringBuilder path = new StringBuilder();
                for (JsonMappingException.Reference ref : mapping.getPath()) {
                    if (ref.getFieldName() != null) {
                        path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
                        at = child(at, ref.getFieldName()).orElse(at);
                    } else if (ref.getIndex() >= 0) {
                        path.append('[').append(ref.getIndex()).append(']');
                        at = at instanceof SequenceNode seq && ref.getIndex() < seq.getValue().size() ? seq.getValue().get(ref.getIndex()) : at;
                    }
                }
                throw new BadInput(at(file, at) + "'" + path + "': " + describe(mapping) + " (in a " + kindName + ")");
            }
            throw new BadInput(at(file, node) + e.getMessage());
        }
    }

    /** Jackson's message without its source-location tail. */
    private static String describe(JsonMappingException e) {
        String message = e.getOriginalMessage();
        int cut = message.indexOf(" from ");
        String head = cut > 0 ? message.substring(0, cut) : message;
        if (head.startsWith("Cannot deserialize value of type `") && message.contains("from ")) {
            String target = head.substring("Cannot deserialize value of type `".length()).replace("`", "");
            String simple = target.substring(target.lastIndexOf('.') + 1);
            String from = message.substring(cut + " from ".length());
            int end = from.indexOf(" value");
            return "expected " + (target.startsWith("java.util") ? "a list" : simple.isEmpty() ? target : "a " + simple)
                    + ", found " + (end > 0 ? from.substring(0, end) : from).replace("`", "");
        }
        return head;
    }

    private static Optional<Node> child(Node node, String key) {
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode scalar && scalar.getValue().equals(key)) {
                    return Optional.of(tuple.getValueNode());
                }
            }
        }
        return Optional.empty();
    }

    static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }

    private static String at(String file, Node node) {
        return node.getStartMark().map(m -> at(file, m)).orElse(file + ": ");
    }

    private static String at(String file, Mark mark) {
        return file + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1) + ": ";
    }
}
