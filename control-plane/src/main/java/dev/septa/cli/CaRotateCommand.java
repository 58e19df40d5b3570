package dev.septa.cli;

import dev.septa.ca.CaConfig;
import dev.septa.ca.CaMaterial;
import dev.septa.ca.FileCaKeyStore;
import dev.septa.ca.IntermediateLoader;
import dev.septa.ca.RootRotation;
import dev.septa.controlplane.status.StatusReport;
import io.micronaut.serde.ObjectMapper;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa ca rotate}: starts a staged rotation of the signing CA (successor's root into every trust bundle,
 * then re-issue, then drop the old root). Without options it asks the running control plane to make a new root
 * itself. With {@code --intermediate-cert/--intermediate-key} it stages an operator's successor intermediate
 * (under the same root, or with {@code --root-cert} under a new one) in the CA store's {@code incoming/} folder,
 * checked first; the control plane picks it up within a second, or when it next starts. The key goes from file to
 * file on this machine, never over the HTTP API. Follow it with {@code septa status}.
 */
@Command(name = "rotate", mixinStandardHelpOptions = true,
        description = {"Start a staged rotation of the signing CA on the running control plane; watch it with `septa status`.",
                "Without options: Septa makes a new root. With --intermediate-cert/--intermediate-key: switch to an"
                        + " operator's new intermediate (same root, or a new one with --root-cert)."})
public final class CaRotateCommand implements Callable<Integer> {
    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:15000",
            description = "the control plane's HTTP API (default ${DEFAULT-VALUE})")
    String server;

    @Option(names = "--dir", paramLabel = "DIR", description = "the control plane's CA store (STATE-DIR/ca, e.g. .septa/ca); needed with --intermediate-cert")
    Path dir;

    @Option(names = "--intermediate-cert", paramLabel = "FILE", description = "the successor intermediate CA certificate (PEM)")
    Path intermediateCert;

    @Option(names = "--intermediate-key", paramLabel = "FILE", description = "its PKCS#8 PEM private key")
    Path intermediateKey;

    @Option(names = "--intermediate-chain", paramLabel = "FILE", description = "further intermediates between it and the root (PEM), if any")
    Path intermediateChain;

    @Option(names = "--root-cert", paramLabel = "FILE",
            description = "the root it chains to, when that root is new (PEM); default: the roots the CA trusts now")
    Path rootCert;

    @Spec
    CommandSpec spec;

    @Mixin
    ApiAccess access = new ApiAccess();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean staging = intermediateCert != null || intermediateKey != null || rootCert != null || intermediateChain != null;
        if (staging) {
            return stage(out, err);
        }
        if (dir != null) {
            err.println("septa ca rotate: --dir is for staging an operator's intermediate; add --intermediate-cert and --intermediate-key");
            return CaCommand.BAD_INPUT;
        }
        return request(out, err);
    }

    private int stage(PrintWriter out, PrintWriter err) {
        if (intermediateCert == null || intermediateKey == null || dir == null) {
            err.println("septa ca rotate: staging an intermediate needs --dir, --intermediate-cert and --intermediate-key"
                    + " (and --root-cert when its root is new)");
            return CaCommand.BAD_INPUT;
        }
        int code = CaCommand.guarded(spec, () -> {
            FileCaKeyStore store = new FileCaKeyStore(dir);
            CaConfig config = CaCommand.configFor(store, null, null);
            Path roots = rootCert != null ? rootCert : store.directory().resolve(FileCaKeyStore.BUNDLE_FILE);
            CaMaterial successor = IntermediateLoader.load(intermediateCert, intermediateKey, intermediateChain, roots,
                    config, Clock.systemUTC());
            RootRotation.stageSuccessor(successor, store.directory(), config, Clock.systemUTC());
            out.printf("staged %s (until %s) in %s; the control plane starts the rotation within a second (or when it"
                            + " next starts): %s -> re-issue every certificate -> old root removed%n",
                    successor.signingCertificate().getSubjectX500Principal().getName(),
                    successor.signingCertificate().getNotAfter().toInstant(),
                    store.directory().resolve(RootRotation.INCOMING_DIR),
                    rootCert != null ? "new root into every bundle" : "same root, bundle unchanged");
            return CaCommand.OK;
        });
        out.flush();
        return code;
    }

    private int request(PrintWriter out, PrintWriter err) {
        HttpResponse<String> response;
        try {
            response = access.send(server, "/api/ca/rotate", true);
        } catch (Exception e) {
            err.println("septa ca rotate: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e)
                    + " (is 'septa serve' running? --server URL)");
            return CaCommand.BAD_INPUT;
        }
        if (response.statusCode() == 409 || response.statusCode() == 401) {
            err.println("septa ca rotate: " + response.body().strip());
            return CaCommand.BAD_INPUT;
        }
        if (response.statusCode() / 100 != 2) {
            err.println("septa ca rotate: " + server + " answered HTTP " + response.statusCode());
            return CaCommand.BAD_INPUT;
        }
        out.println("root rotation requested; stages: new root into every bundle -> re-issue every certificate -> old root removed");
        try {
            StatusCommand.printRotation(ObjectMapper.getDefault().readValue(response.body(), StatusReport.class), out);
        } catch (Exception e) {
            // the request was accepted; the status is a courtesy
        }
        return 0;
    }
}
