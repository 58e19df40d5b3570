package dev.septa.sidecar.agent;

import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Writes {@code cert.pem}, {@code key.pem} and {@code ca.pem} so that a reader never sees a half-written file nor a
 * key of one version with the certificate of another.
 *
 * <p>Why not three renames: grpc's file_watcher (and AdvancedTlsX509KeyManager) stats both files, reads the
 * certificate, then the key, then stats again and accepts the pair when neither changed <em>during</em> the read.
 * With per-file renames, a refresh falling between the key's rename and the certificate's would accept the old
 * certificate with the new key (whatever the order, one of the two is briefly stale) and fail handshakes until the
 * next refresh. So each version goes into its own directory {@code ..v<n>}, fsynced, and one atomic rename of the
 * symlink {@code ..data} switches all three files at once; {@code cert.pem} etc. are symlinks through {@code ..data}
 * (the layout Kubernetes uses for Secret volumes). A reader straddling the switch sees a changed mtime on its second
 * stat and retries on its next refresh. The key file is created 0600 before any byte is written.
 */
public final class CertificateFileWriter {
    static final String DATA = "..data";
    private static final String VERSION_PREFIX = "..v";
    private final CertificateFileLayout layout;
    private final AtomicLong sequence = new AtomicLong(System.currentTimeMillis());

    public CertificateFileWriter(CertificateFileLayout layout) {
        this.layout = layout;
    }

    public CertificateFileLayout layout() {
        return layout;
    }

    public synchronized void write(CertificateBundle bundle) throws IOException {
        Path dir = layout.dir();
        Files.createDirectories(dir);
        Path version = dir.resolve(VERSION_PREFIX + sequence.incrementAndGet());
        Files.createDirectory(version, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        writeFile(version.resolve(CertificateFileLayout.KEY), bundle.privateKeyPem(), "rw-------");
        writeFile(version.resolve(CertificateFileLayout.CERT), bundle.certificateChainPem(), "rw-r--r--");
        writeFile(version.resolve(CertificateFileLayout.CA), bundle.trustBundlePem(), "rw-r--r--");
        fsync(version);

        Path temporaryLink = dir.resolve(DATA + ".tmp");
        Files.deleteIfExists(temporaryLink);
        Files.createSymbolicLink(temporaryLink, version.getFileName());
        Files.move(temporaryLink, dir.resolve(DATA), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String name : new String[] {CertificateFileLayout.KEY, CertificateFileLayout.CERT, CertificateFileLayout.CA}) {
            linkThroughData(dir, name);
        }
        writeEnvoySdsOnce(dir);
        fsync(dir);
        removeOldVersions(dir, version.getFileName().toString());
    }

    /**
     * {@code envoy-sds.json}, for an Envoy beside the agent: names the files, never changes, so it is written once,
     * after the first certificate is in place (Envoy then never reads a reference to a missing file).
     */
    private void writeEnvoySdsOnce(Path dir) throws IOException {
        Path sds = layout.envoySds();
        if (Files.exists(sds)) {
            return;
        }
        Path temporary = dir.resolve(CertificateFileLayout.ENVOY_SDS + ".tmp");
        Files.deleteIfExists(temporary);
        writeFile(temporary, dev.septa.sidecar.bootstrap.EnvoySvidFiles.json(layout), "rw-r--r--");
        Files.move(temporary, sds, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void linkThroughData(Path dir, String name) throws IOException {
        Path link = dir.resolve(name);
        Path target = Path.of(DATA, name);
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
            return;
        }
        Path temporary = dir.resolve(name + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createSymbolicLink(temporary, target);
        Files.move(temporary, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void writeFile(Path file, String content, String permissions) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("refusing to overwrite " + file, e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            var buffer = java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    private static void fsync(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot fsync a directory; the rename is still atomic, only its durability is weaker.
        }
    }

    private static void removeOldVersions(Path dir, String current) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path old : entries.filter(p -> p.getFileName().toString().startsWith(VERSION_PREFIX))
                    .filter(p -> !p.getFileName().toString().equals(current))
                    .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                try (Stream<Path> files = Files.walk(old)) {
                    for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(file);
                    }
                }
            }
        }
    }

    /** Whether a complete set of files exists (a previous run's, for example). */
    public boolean present() {
        return Set.of(layout.cert(), layout.key(), layout.ca()).stream().allMatch(Files::isReadable);
    }
}
