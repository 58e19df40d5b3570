package dev.septa.controlplane.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * A random secret kept in one owner-only file of the state directory, base64url: created once (written to a 0600
 * temporary file, renamed into place, so a racing second start reads the first one's), then read on every start.
 * A file that group or others may access is refused, as the CA key is: whoever could read it holds the secret.
 */
public final class SecretFile {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rwx------");

    private SecretFile() {
    }

    static byte[] readOrCreate(Path file, int bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        createStateDirectory(dir);
        if (!Files.exists(file)) {
            byte[] fresh = new byte[bytes];
            new SecureRandom().nextBytes(fresh);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: rely on the directory's permissions
            }
            Files.write(tmp, B64.encode(fresh), StandardOpenOption.TRUNCATE_EXISTING);
            try {
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                Files.deleteIfExists(tmp);
                if (!Files.exists(file)) {
                    throw raced;
                }
            }
        }
        checkOwnerOnly(file);
        try {
            return B64D.decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not a base64url secret; delete it to make a new one", e);
        }
    }

    /**
     * Creates the state directory (and missing parents) owner-only, 0700, when it does not exist; an existing one is
     * left as the operator made it (its secret files are checked one by one).
     */
    public static void createStateDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            Files.setPosixFilePermissions(dir, OWNER_DIR); // the umask may have narrowed the mode; never widened
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            // another process made it first
        }
    }

    /** Refuses a secret file that group or others may read or write (POSIX file systems only). */
    static void checkOwnerOnly(Path file) throws IOException {
        if (!Files.getFileStore(file).supportsFileAttributeView("posix")) {
            return;
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (permissions.stream().anyMatch(p -> !OWNER_FILE.contains(p))) {
            throw new IOException(file + " is accessible to group or others (mode " + PosixFilePermissions.toString(permissions)
                    + "); it holds a secret and must be owner-only: chmod 600 " + file);
        }
    }
}
