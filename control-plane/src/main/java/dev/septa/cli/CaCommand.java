package dev.septa.cli;

import dev.septa.ca.CaConfig;
import dev.septa.ca.CaException;
import dev.septa.ca.CaMaterial;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.FileCaKeyStore;
import dev.septa.ca.IntermediateLoader;
import dev.septa.ca.IssuanceListener;
import dev.septa.ca.IssuedCertificate;
import dev.septa.identity.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa ca init|issue|bundle}: the built-in CA for operators and scripts. Refusals and bad input exit 2
 * with one line on stderr, never a stack trace.
 */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = "Create, inspect and use Septa's built-in CA store.",
        subcommands = {CaCommand.Init.class, CaCommand.Issue.class, CaCommand.Bundle.class, CaRotateCommand.class})
public final class CaCommand implements Runnable {

    static final int OK = 0;
    static final int BAD_INPUT = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs a subcommand body, turning every expected failure into "error: ..." and exit 2. */
    static int guarded(CommandSpec spec, Callable<Integer> body) {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return body.call();
        } catch (CaException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
        } catch (NoSuchFileException e) {
            err.println("error: " + e.getFile() + ": no such file");
        } catch (IOException e) {
            err.println("error: " + e);
        } catch (Exception e) {
            err.println("error: unexpected " + e);
        }
        err.flush();
        return BAD_INPUT;
    }

    /** The trust domain recorded in an existing store, or the one asked for. */
    static CaConfig configFor(FileCaKeyStore store, String trustDomain, Duration defaultTtl) {
        String td = trustDomain != null ? trustDomain
                : store.load().map(m -> m.trustBundle().trustDomain()).orElse("cluster.local");
        CaConfig config = CaConfig.forTrustDomain(td);
        return defaultTtl == null ? config : config.withDefaultTtl(defaultTtl);
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Create a CA store (a new ECDSA P-256 root, or an imported intermediate), or check an existing one.",
                    "An existing store is never replaced."})
    static final class Init implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", required = true, description = "CA store directory.")
        Path dir;

        @Option(names = "--trust-domain", description = "Trust domain (default: the store's, else cluster.local).")
        String trustDomain;

        @Option(names = "--root-lifetime", defaultValue = "365d", description = "Lifetime of a new root (default: ${DEFAULT-VALUE}).")
        String rootLifetime;

        @Option(names = "--intermediate-cert", description = "Import an intermediate CA certificate (PEM) instead of generating a root.")
        Path intermediateCert;

        @Option(names = "--intermediate-key", description = "The intermediate's PKCS#8 PEM private key.")
        Path intermediateKey;

        @Option(names = "--intermediate-chain", description = "Further intermediates between it and the root (PEM), if any.")
        Path intermediateChain;

        @Option(names = "--root-cert", description = "The root the intermediate chains to (PEM): the trust bundle.")
        Path rootCert;

        @Override
        public Integer call() {
            return guarded(spec, () -> {
                FileCaKeyStore store = new FileCaKeyStore(dir);
                boolean existed = store.load().isPresent();
                boolean importing = intermediateCert != null || intermediateKey != null || rootCert != null;
                if (importing && (intermediateCert == null || intermediateKey == null || rootCert == null)) {
                    throw new IllegalArgumentException("importing an intermediate needs --intermediate-cert, --intermediate-key and --root-cert");
                }
                if (importing && existed) {
                    throw new IllegalArgumentException("CA store " + store.directory() + " already holds a CA; it is never replaced");
                }
                CaConfig config = configFor(store, trustDomain, null).withRootLifetime(CaDurations.parse(rootLifetime));
                if (importing) {
                    CaMaterial material = IntermediateLoader.load(intermediateCert, intermediateKey, intermediateChain, rootCert,
                            config, Clock.systemUTC());
                    store.save(material);
                }
                CertificateAuthority ca = CertificateAuthority.open(store, config, Clock.systemUTC(), IssuanceListener.NONE);
                var signer = ca.signingCertificate();
                spec.commandLine().getOut().printf("%s CA store %s: trust domain %s, signer %s, valid until %s%n",
                        existed ? "checked" : "created", store.directory(), ca.trustDomain(),
                        signer.getSubjectX500Principal(), signer.getNotAfter().toInstant());
                return OK;
            });
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Sign a PKCS#10 CSR for a workload SPIFFE ID and print the certificate chain (leaf first) as PEM.")
    static final class Issue implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", required = true, description = "CA store directory.")
        Path dir;

        @Option(names = "--csr", required = true, description = "The CSR file (PEM or DER).")
        Path csr;

        @Option(names = "--spiffe-id", required = true, description = "spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>")
        String spiffeId;

        @Option(names = "--ttl", defaultValue = "1h", description = "Certificate lifetime, 5m to 24h (default: ${DEFAULT-VALUE}).")
        String ttl;

        @Override
        public Integer call() {
            return guarded(spec, () -> {
                SpiffeId id = SpiffeId.parse(spiffeId);
                Duration lifetime = CaDurations.parse(ttl);
                byte[] request = Files.readAllBytes(csr);
                FileCaKeyStore store = new FileCaKeyStore(dir);
                CertificateAuthority ca = openExisting(store);
                IssuedCertificate issued = ca.issue(request, id, lifetime);
                spec.commandLine().getOut().print(issued.certificateChainPem());
                spec.commandLine().getOut().flush();
                return OK;
            });
        }
    }

    @Command(name = "bundle", mixinStandardHelpOptions = true, description = "Print the trust bundle (the roots) as PEM.")
    static final class Bundle implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", required = true, description = "CA store directory.")
        Path dir;

        @Override
        public Integer call() {
            return guarded(spec, () -> {
                spec.commandLine().getOut().print(openExisting(new FileCaKeyStore(dir)).trustBundle().toPem());
                spec.commandLine().getOut().flush();
                return OK;
            });
        }
    }

    static CertificateAuthority openExisting(FileCaKeyStore store) {
        if (store.load().isEmpty()) {
            throw new IllegalArgumentException("no CA in " + store.directory() + "; create one with: septa ca init --dir "
                    + store.directory());
        }
        return CertificateAuthority.openExisting(store, configFor(store, null, null), Clock.systemUTC(), IssuanceListener.NONE);
    }
}
