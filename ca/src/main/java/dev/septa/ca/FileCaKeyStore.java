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
import java.util.List;
import java.util.Map;
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
 * A save replaces all four files or none, even across a crash (root rotation replaces the key and the chain
 * together, and a key from one save beside a chain from another would be a store that cannot load). It is a small
 * redo log: each new file is written as {@code .NAME.new} (created 0600 or 0644, never wider for an instant) and
 * fsynced; then the marker {@value #COMMIT_FILE} is renamed into place (the commit point); then each
 * {@code .NAME.new} is renamed over {@code NAME} and the marker removed. A reader that finds the marker reads the
 * {@code .new} files that are still there, so it sees the committed content; the next save (the single writer)
 * finishes or discards what a crash left. A store missing files is refused, naming them; the key file must not be
 * readable by group or others.
 */
public final class FileCaKeyStore implements CaKeyStore {

    public static final String KEY_FILE = StoredCa.KEY;
    public static final String BUNDLE_FILE = StoredCa.BUNDLE;
    public static final String CHAIN_FILE = StoredCa.CHAIN;
    public static final String TRUST_DOMAIN_FILE = StoredCa.TRUST_DOMAIN;
    static final String COMMIT_FILE = ".save-commit";
    private static final List<String> FILES = StoredCa.PARTS;

    /** Test seam: called after each file system step of a save, so a test can "crash" between any two. */
    interface Steps {
        void after(String step);

        Steps NONE = step -> { };

        /**
         * A failpoint for crash testing across processes (the chaos e2e test kills {@code septa serve} in the middle
         * of a save): when the system property {@value #DELAY_PROPERTY} names a number of milliseconds, every step
         * of a save is followed by that pause, so a save lasts long enough to be killed in. Never set it in
         * production: a save then holds the rotation for seconds.
         */
        String DELAY_PROPERTY = "septa.failpoint.caSaveStepMillis";

        static Steps fromSystemProperty() {
            String value = System.getProperty(DELAY_PROPERTY);
            if (value == null || value.isBlank()) {
                return NONE;
            }
            long millis = Long.parseLong(value.strip());
            return step -> {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
        }
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

    private final Path directory;
    private final Steps steps;

    public FileCaKeyStore(Path directory) {
        this(directory, Steps.fromSystemProperty());
    }

    FileCaKeyStore(Path directory, Steps steps) {
        this.directory = directory.toAbsolutePath().normalize();
        this.steps = steps;
    }

    public Path directory() {
        return directory;
    }

    @Override
    public String location() {
        return "directory " + directory;
    }

    /**
     * Another process may save while this one loads (the CLI staging a successor while the control plane's rotation
     * tick reads it): the files of two versions, or a {@code .NAME.new} just renamed away, used to be reported as a
     * damaged store, and the control plane then deleted the operator's staged successor. So a load counts only when no
     * commit was being applied around it (no marker) and no file was replaced meanwhile; otherwise it reads again, for
     * up to this long, then reads what a crash left (the marker: the committed {@code .new} files).
     */
    private static final long CONCURRENT_SAVE_RETRY_MILLIS = 2_000;

    @Override
    public Optional<CaMaterial> load() {
        long deadline = System.currentTimeMillis() + CONCURRENT_SAVE_RETRY_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            List<Object> before = fileIdentities();
            boolean quiet = !saveUnderWay();
            try {
                Optional<CaMaterial> loaded = loadOnce(!quiet);
                if (quiet && !saveUnderWay() && before.equals(fileIdentities())) {
                    return loaded;
                }
            } catch (CaStoreException e) {
                if (quiet && !saveUnderWay() && before.equals(fileIdentities())) {
                    throw e;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return loadOnce(Files.exists(directory.resolve(COMMIT_FILE)));
    }

    /** Between a save's commit point and its last rename (or after a crash there): files of two versions. */
    private boolean saveUnderWay() {
        return Files.exists(directory.resolve(COMMIT_FILE));
    }

    /** Each file's identity (inode) and modification time: a rename over it changes them. */
    private List<Object> fileIdentities() {
        List<Object> ids = new java.util.ArrayList<>();
        for (String name : FILES) {
            try {
                var attributes = Files.readAttributes(directory.resolve(name), java.nio.file.attribute.BasicFileAttributes.class);
                ids.add(attributes.fileKey());
                ids.add(attributes.lastModifiedTime());
            } catch (IOException e) {
                ids.add(null);
            }
        }
        return ids;
    }

    private Optional<CaMaterial> loadOnce(boolean committing) {
        Path key = committed(KEY_FILE, committing);
        Path bundle = committed(BUNDLE_FILE, committing);
        Path chain = committed(CHAIN_FILE, committing);
        Path domain = committed(TRUST_DOMAIN_FILE, committing);
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
        Map<String, Path> files = Map.of(StoredCa.KEY, key, StoredCa.TRUST_DOMAIN, domain, StoredCa.BUNDLE, bundle,
                StoredCa.CHAIN, chain);
        Map<String, String> parts = new java.util.HashMap<>();
        files.forEach((name, file) -> parts.put(name, read(file)));
        return Optional.of(StoredCa.decode(parts, name -> files.get(name).toString(), this::corrupt));
    }

    /** The file holding {@code name}'s committed content: its {@code .new} twin while a commit is being applied. */
    private Path committed(String name, boolean committing) {
        Path pending = pending(name);
        return committing && Files.exists(pending) ? pending : directory.resolve(name);
    }

    private Path pending(String name) {
        return directory.resolve("." + name + ".new");
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
            if (posix()) {
                Files.setPosixFilePermissions(directory, OWNER_DIR);
            }
            finishOrDiscardInterruptedSave();
            for (var part : StoredCa.encode(material).entrySet()) {
                writePending(part.getKey(), part.getValue(), part.getKey().equals(StoredCa.KEY) ? OWNER_ONLY : PUBLIC);
            }
            commit();
        } catch (IOException e) {
            throw new CaStoreException("cannot write CA store " + directory + ": " + e);
        }
    }

    /** Removes the directory and everything in it. */
    @Override
    public void delete() {
        if (!Files.exists(directory)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(directory)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new CaStoreException("cannot remove " + directory + ": " + e.getMessage());
        }
    }

    /** After a crash: a save whose marker was written is applied; an uncommitted one is thrown away. */
    private void finishOrDiscardInterruptedSave() throws IOException {
        if (Files.exists(directory.resolve(COMMIT_FILE))) {
            apply();
        } else {
            for (String name : FILES) {
                Files.deleteIfExists(pending(name));
            }
        }
    }

    private void commit() throws IOException {
        Path marker = directory.resolve(COMMIT_FILE);
        Path temp = Files.createTempFile(directory, COMMIT_FILE, ".tmp");
        try {
            Files.writeString(temp, String.join("\n", FILES) + "\n", StandardCharsets.US_ASCII);
            move(temp, marker);
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory();
        steps.after("commit");
        apply();
    }

    /** Renames every pending file into place (idempotent: a file already moved is skipped), then drops the marker. */
    private void apply() throws IOException {
        for (String name : FILES) {
            Path pending = pending(name);
            if (Files.exists(pending)) {
                move(pending, directory.resolve(name));
                steps.after("rename " + name);
            }
        }
        syncDirectory();
        Files.deleteIfExists(directory.resolve(COMMIT_FILE));
        syncDirectory();
        steps.after("done");
    }

    /** Writes {@code .NAME.new}: created with its final permissions, fsynced. */
    private void writePending(String name, String content, Set<PosixFilePermission> permissions) throws IOException {
        Path pending = pending(name);
        Files.deleteIfExists(pending);
        if (posix()) {
            Files.createFile(pending, PosixFilePermissions.asFileAttribute(permissions));
        } else {
            Files.createFile(pending);
        }
        try (FileChannel channel = FileChannel.open(pending, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            var buffer = java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        steps.after("write " + name);
    }

    private void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("file system of " + directory + " cannot rename atomically", e);
        }
    }

    private boolean posix() throws IOException {
        return Files.getFileStore(directory).supportsFileAttributeView("posix");
    }

    private void syncDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot open directories for fsync; the renames are still atomic.
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
