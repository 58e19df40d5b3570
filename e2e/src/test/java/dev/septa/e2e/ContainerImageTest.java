package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile at the repository root, checked without a container runtime (none can pull a base image here): every
 * path it copies exists once {@code ./mvnw package} has run (e2e runs after control-plane is packaged), the build
 * context lets them through .dockerignore, the entrypoint is the launcher it copies, the launcher finds the jar where
 * it is copied, it runs as a numeric non-root user, on a JDK 25 runtime, and the Deployment names the image by the
 * placeholder the kustomization replaces.
 */
class ContainerImageTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    record Copy(String from, String to) {}

    static List<String> instructions() throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(ROOT.resolve("Dockerfile"))) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                out.add(l);
            }
        }
        return out;
    }

    static List<Copy> copies() throws Exception {
        return instructions().stream().filter(l -> l.startsWith("COPY ")).map(l -> l.substring(5).strip().split("\\s+"))
                .map(p -> new Copy(p[0], p[1])).toList();
    }

    @Test
    void everyPathTheDockerfileCopiesExistsAfterPackageAndPassesTheDockerignore() throws Exception {
        List<Copy> copies = copies();
        assertThat(copies).extracting(Copy::from).containsExactlyInAnyOrder("septa", "control-plane/target/septa.jar");
        for (Copy c : copies) {
            assertThat(ROOT.resolve(c.from())).as("%s (run ./mvnw package first)", c.from()).isRegularFile();
        }
        assertThat(ROOT.resolve("septa")).isExecutable();
        List<String> ignore = Files.readAllLines(ROOT.resolve(".dockerignore")).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(ignore.getFirst()).isEqualTo("*");
        assertThat(ignore).containsAll(copies.stream().map(c -> "!" + c.from()).toList());
    }

    @Test
    void theLauncherIsTheEntrypointAndFindsTheJarWhereItIsCopied() throws Exception {
        List<Copy> copies = copies();
        String launcher = copies.stream().filter(c -> c.from().equals("septa")).findFirst().orElseThrow().to();
        String jar = copies.stream().filter(c -> c.from().endsWith("septa.jar")).findFirst().orElseThrow().to();
        assertThat(instructions()).contains("ENTRYPOINT [\"" + launcher + "\"]");
        // ./septa looks for $root/control-plane/target/septa.jar, $root being its own directory
        assertThat(Files.readString(ROOT.resolve("septa"))).contains("jar=\"$root/control-plane/target/septa.jar\"");
        assertThat(Path.of(launcher).getParent().resolve("control-plane/target/septa.jar")).isEqualTo(Path.of(jar));
    }

    @Test
    void itRunsAsANumericNonRootUserOnAJdk25Runtime() throws Exception {
        List<String> lines = instructions();
        assertThat(lines.stream().filter(l -> l.startsWith("FROM "))).singleElement().asString().matches("FROM eclipse-temurin:25(\\.[0-9.]+)?-jre.*");
        String user = lines.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow().substring(5).strip();
        assertThat(user).matches("[0-9]+:[0-9]+").isNotEqualTo("0:0").doesNotStartWith("0:");
        String deployment = Files.readString(ROOT.resolve("manifests/deployment.yaml"));
        assertThat(deployment).contains("runAsUser: " + user.split(":")[0]).contains("readOnlyRootFilesystem: true");
    }

    @Test
    void theManifestsNameTheImageByOnePlaceholderThatKustomizeReplaces() throws Exception {
        String deployment = Files.readString(ROOT.resolve("manifests/deployment.yaml"));
        assertThat(deployment.lines().filter(l -> l.strip().startsWith("image:")).map(String::strip)).containsExactly("image: septa-image");
        String kustomization = Files.readString(ROOT.resolve("manifests/kustomization.yaml"));
        assertThat(kustomization).contains("images:").contains("- name: septa-image");
    }
}
