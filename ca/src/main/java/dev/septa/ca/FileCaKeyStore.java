package dev.septa.ca;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A CA store in one directory:
 * <ul>
 *   <li>{@code signing-key.pem}: the signing key, PKCS#8 PEM, mode 0600;</li>
 *   <li>{@code trust-domain}: the trust domain name, one line (an operator's root need not carry it);</li>
 *   <li>{@code trust-bundle.pem}: the roots;</li>
 *   <li>{@code signing-chain.pem}: the signing certificate, then any intermediates up to (not including) the root.</li>
 * </ul>
 * Each file is written to a temporary file in the same directory (created 0600 or 0644, never wider for an
 * instant), fsynced and renamed over the old one, then the directory is fsynced. The chain is written last and
 * acts as the commit mark: after a crash the store is either complete or missing files, and a store missing
 * files is refused, naming them. The key file must not be readable by group or others.
 */
public final class FileCaKeyStore implements CaKeyStore {

    public static final String KEY_FILE = "signing-key.pem";
    public static final String BUNDLE_FILE = "trust-bundle.pem";
    public static final String CHAIN_FILE = "signing-chain.pem";
    public static final String TRUST_DOMAIN_FILE = "trust-domain";

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private final Path directory;

    public FileCaKeyStore(Path directory) {
        this.directory = directory.toAbsolutePath().normalize();
    }

    public Path directory() {
        return directory;
    }

    @Override
    public String location() {
        return "directory " + directory;
    }

    @Override
    public Optional<CaMaterial> load() {
        Path key = directory.resolve(KEY_FILE);
        Path bundle = directory.resolve(BUNDLE_FILE);
        Path chain = directory.resolve(CHAIN_FILE);
        Path domain = directory.resolve(TRUST_DOMAIN_FILE);
        List<Path> missing = java.util.stream.Stream.of(key, domain, bundle, chain).filter(p -> !Files.exists(p)).toList();
        if (missing.size() == 4) {
            return Optional.empty();
        }
        if (!missing.isEmpty()) {
            throw new CaStoreException("CA store " + directory + " is incomplete: " + missing.stream()
                    .map(p -> p.getFileName().toString()).toList() + " missing (half-written or damaged store)."
                    + " It is not replaced automatically: restore the files from a backup, or delete the directory"
                    + " to create a new CA (every workload certificate must then be reissued)");
        }
        checkKeyPermissions(key);
        PrivateKey signingKey;
        List<X509Certificate> roots;
        List<X509Certificate> signingChain;
        try {
            signingKey = PemReader.privateKey(read(key), key.toString());
            roots = PemReader.certificates(read(bundle), bundle.toString());
            signingChain = PemReader.certificates(read(chain), chain.toString());
        } catch (PemException e) {
            throw corrupt(e.getMessage());
        }
        if (!SigningCaValidator.isKeyPair(signingKey, signingChain.getFirst().getPublicKey())) {
            throw corrupt(key + " does not hold the private key of the first certificate in " + chain);
        }
        String trustDomain = read(domain).strip();
        try {
            SpiffeId.requireTrustDomain(trustDomain);
        } catch (IllegalArgumentException e) {
            throw corrupt(domain + ":1: " + e.getMessage());
        }
        try {
            return Optional.of(new CaMaterial(signingKey, signingChain.getFirst(),
                    signingChain.subList(1, signingChain.size()), new TrustBundle(trustDomain, roots)));
        } catch (IllegalArgumentException e) {
            throw corrupt(bundle + ": " + e.getMessage());
        }
    }

    private CaStoreException corrupt(String what) {
        return new CaStoreException("CA store " + directory + " is corrupt: " + what + ". It is not replaced"
                + " automatically: restore it from a backup, or delete the directory to create a new CA"
                + " (every workload certificate must then be reissued)");
    }

    @Override
    public void save(CaMaterial material) {
        try {
            Files.createDirectories(directory);
            if (Files.getFileStore(directory).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(directory, OWNER_DIR);
            }
            write(directory.resolve(KEY_FILE), Pem.privateKeyPkcs8(material.signingKey()), OWNER_ONLY);
            write(directory.resolve(TRUST_DOMAIN_FILE), material.trustBundle().trustDomain() + "\n", PUBLIC);
            write(directory.resolve(BUNDLE_FILE), material.trustBundle().toPem(), PUBLIC);
            write(directory.resolve(CHAIN_FILE), Pem.certificates(material.signingChain()), PUBLIC);
        } catch (IOException e) {
            throw new CaStoreException("cannot write CA store " + directory + ": " + e);
        }
    }

    /** Atomic replace: temp file in the same directory, fsync, rename, fsync the directory. */
    private void write(Path target, String content, Set<PosixFilePermission> permissions) throws IOException {
        boolean posix = Files.getFileStore(directory).supportsFileAttributeView("posix");
        Path temp = posix
                ? Files.createTempFile(directory, "." + target.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(permissions))
                : Files.createTempFile(directory, "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                var buffer = java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("file system of " + directory + " cannot rename atomically", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot open directories for fsync; the rename is still atomic.
        }
    }

    private static void checkKeyPermissions(Path key) {
        try {
            if (!Files.getFileStore(key).supportsFileAttributeView("posix")) {
                return;
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(key);
            var wider = permissions.stream().filter(p -> !OWNER_ONLY.contains(p) && p != PosixFilePermission.OWNER_EXECUTE).toList();
            if (!wider.isEmpty()) {
                throw new CaStoreException(key + ": the CA private key is accessible to group or others (mode "
                        + PosixFilePermissions.toString(permissions) + "); it must be owner-only: chmod 600 " + key);
            }
        } catch (IOException e) {
            throw new CaStoreException(key + ": cannot read permissions: " + e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new CaStoreException(file + ": missing");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new CaStoreException(file + ": not a PEM file (contains non-ASCII bytes); the CA store is corrupt");
        } catch (IOException e) {
            throw new CaStoreException(file + ": cannot read: " + e);
        }
    }

    @Override
    public String toString() {
        return "FileCaKeyStore[" + directory + "]";
    }
}
