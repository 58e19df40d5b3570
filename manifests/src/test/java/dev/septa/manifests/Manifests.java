package dev.septa.manifests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The manifests folder (this module's base directory) and the shop example, for the tests. */
final class Manifests {
    static final Path DIR = Path.of("").toAbsolutePath();
    static final Path SHOP_INTENTS = DIR.resolve("../examples/shop/intents").normalize();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Manifests() {
    }

    /** Every manifest: *.yaml here and under crds/, kustomization.yaml excepted. */
    static List<Path> files() {
        try (Stream<Path> files = Files.walk(DIR, 2)) {
            return files.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml"))
                    .filter(p -> !DIR.relativize(p).startsWith("target") && !DIR.relativize(p).startsWith("src"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode crd(String name) {
        return yaml(DIR.resolve("crds/" + name + ".yaml")).getFirst();
    }

    /** The openAPIV3Schema of a CRD's only version. */
    static JsonNode schema(String crdName) {
        return crd(crdName).at("/spec/versions/0/schema/openAPIV3Schema");
    }

    static List<JsonNode> yaml(Path file) {
        try {
            return yaml(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> yaml(String text) {
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(text)) {
            List<JsonNode> docs = new ArrayList<>();
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> shopFiles() {
        try (Stream<Path> files = Files.list(SHOP_INTENTS)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The compiler's parser on these YAML texts (name -> text). */
    static ParseResult parse(List<InputFile> inputs) {
        return MeshParser.parse(inputs);
    }

    static InputFile input(Path file) {
        try {
            return new InputFile(file.toString(), Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
