package dev.septa.controlplane.audit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonWriter;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every policy version the control plane applied, so that {@code septa check --at T} can decide on the version in
 * force at T. In {@code STATE/policy-versions/}:
 * <ul>
 *   <li>{@code objects/VERSION.json}: the compiler's input files (names and texts), content-addressed by the same
 *   hash the control plane reports as the configuration version ({@link SourceSnapshot#contentHash}); written to a
 *   temporary file and renamed, so an object is whole or absent;</li>
 *   <li>{@code index.jsonl}: one line {@code {"at":…,"version":…}} per version put in force, appended in order; a
 *   last line cut by a crash is ignored.</li>
 * </ul>
 * Bounds: the last {@code maxVersions} entries, and of those only the ones still in force within {@code maxAge} (an
 * entry leaves once its successor is older than that); the version in force is always kept. Objects no entry names
 * any more are deleted. Reading needs no running control plane.
 */
public final class PolicyVersionStore {
    public static final String DIR = "policy-versions";
    public static final int DEFAULT_MAX_VERSIONS = 1000;
    public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(400);
    private static final Pattern VERSION = Pattern.compile("[0-9a-f]{8,64}");

    /** One entry of the index: {@code version} was put in force at {@code at}. */
    public record Entry(Instant at, String version) {}

    /** The store cannot answer: a user-facing message. */
    public static final class StoreException extends Exception {
        public StoreException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final int maxVersions;
    private final Duration maxAge;

    public PolicyVersionStore(Path stateDir, int maxVersions, Duration maxAge) {
        this.dir = stateDir.resolve(DIR);
        this.maxVersions = maxVersions;
        this.maxAge = maxAge;
    }

    public static PolicyVersionStore in(Path stateDir) {
        return new PolicyVersionStore(stateDir, DEFAULT_MAX_VERSIONS, DEFAULT_MAX_AGE);
    }

    public Path directory() {
        return dir;
    }

    /** Keeps {@code files} as version {@code version}, in force from {@code at}; nothing new when it already is. */
    public void applied(Instant at, String version, List<InputFile> files) throws IOException {
        requireVersion(version);
        Path objects = Files.createDirectories(dir.resolve("objects"));
        Path object = objects.resolve(version + ".json");
        if (!Files.exists(object)) {
            Path tmp = objects.resolve(version + ".json.tmp");
            Files.writeString(tmp, objectJson(version, files), StandardCharsets.UTF_8);
            Files.move(tmp, object, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        List<Entry> entries = readIndex();
        if (!entries.isEmpty() && entries.getLast().version().equals(version)) {
            return; // a restart on the same policy: still the same version in force
        }
        appendLine(dir.resolve("index.jsonl"), indexLine(new Entry(at, version)));
        entries.add(new Entry(at, version));
        prune(entries, at);
    }

    private void prune(List<Entry> entries, Instant now) throws IOException {
        int first = Math.max(0, entries.size() - maxVersions);
        Instant cutoff = now.minus(maxAge);
        // Entry i was in force until entry i+1's instant: it goes once that is older than the cutoff.
        while (first < entries.size() - 1 && entries.get(first + 1).at().isBefore(cutoff)) {
            first++;
        }
        if (first == 0) {
            return;
        }
        List<Entry> kept = entries.subList(first, entries.size());
        StringBuilder text = new StringBuilder();
        kept.forEach(e -> text.append(indexLine(e)).append('\n'));
        Path tmp = dir.resolve("index.jsonl.tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("index.jsonl"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Set<String> named = new HashSet<>();
        kept.forEach(e -> named.add(e.version() + ".json"));
        try (Stream<Path> objects = Files.list(dir.resolve("objects"))) {
            for (Path p : objects.filter(p -> p.getFileName().toString().endsWith(".json")
                    && !named.contains(p.getFileName().toString())).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The index, oldest first; a cut last line (a crash mid-append) is skipped. */
    public List<Entry> readIndex() throws IOException {
        List<Entry> entries = new ArrayList<>();
        Path index = dir.resolve("index.jsonl");
        if (!Files.exists(index)) {
            return entries;
        }
        // Decoded leniently: a line with broken bytes is skipped like a cut one, never a reason to stop keeping versions.
        for (String line : new String(Files.readAllBytes(index), StandardCharsets.UTF_8).split("\n")) {
            parseEntry(line).ifPresent(entries::add);
        }
        return entries;
    }

    /** The version in force at {@code at}, or why it is not known. */
    public Entry inForceAt(Instant at) throws StoreException {
        List<Entry> entries;
        try {
            entries = readIndex();
        } catch (IOException e) {
            throw new StoreException("cannot read " + dir.resolve("index.jsonl") + ": " + e.getMessage());
        }
        if (entries.isEmpty()) {
            throw new StoreException("no policy version is kept in " + dir + ": is this the --state-dir of `septa serve`,"
                    + " and has it applied a policy since it keeps versions?");
        }
        Entry inForce = null;
        for (Entry e : entries) {
            if (!e.at().isAfter(at)) {
                inForce = e;
            }
        }
        if (inForce == null) {
            throw new StoreException(at + " is before the oldest policy version kept (" + entries.getFirst().version()
                    + ", in force from " + entries.getFirst().at() + "); " + dir + " keeps the last " + maxVersions
                    + " versions and " + maxAge.toDays() + " days");
        }
        return inForce;
    }

    /** The input files of {@code version}, checked against their hash. */
    public List<InputFile> files(String version) throws StoreException {
        Path object = dir.resolve("objects").resolve(version + ".json");
        String text;
        try {
            requireVersion(version);
            text = Files.readString(object, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new StoreException(object + ": the files of version " + version + " are missing");
        } catch (IOException | IllegalArgumentException e) {
            throw new StoreException(object + ": cannot read: " + e.getMessage());
        }
        List<InputFile> files = new ArrayList<>();
        try {
            JsonObject json = JsonParser.parseString(text).getAsJsonObject();
            JsonArray array = json.getAsJsonArray("files");
            for (JsonElement e : array) {
                JsonObject f = e.getAsJsonObject();
                files.add(new InputFile(f.get("name").getAsString(), f.get("text").getAsString()));
            }
        } catch (RuntimeException | StackOverflowError e) {
            throw new StoreException(object + ": not a policy version object (" + e.getMessage() + ")");
        }
        String hash = SourceSnapshot.contentHash(files);
        if (!hash.equals(version)) {
            throw new StoreException(object + ": its content hashes to " + hash + ", not " + version + ": it was changed");
        }
        return files;
    }

    private static Optional<Entry> parseEntry(String line) {
        if (line.isBlank()) {
            return Optional.empty();
        }
        try {
            JsonObject json = JsonParser.parseString(line).getAsJsonObject();
            String version = json.get("version").getAsString();
            if (!VERSION.matcher(version).matches()) {
                return Optional.empty();
            }
            return Optional.of(new Entry(Instant.parse(json.get("at").getAsString()), version));
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.empty(); // a line cut by a crash: nothing was in force by it
        }
    }

    private static void requireVersion(String version) {
        if (version == null || !VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("not a policy version: " + version);
        }
    }

    private static String indexLine(Entry e) {
        return AuditRecord.nested().put("at", e.at()).put("version", e.version()).line();
    }

    private static String objectJson(String version, List<InputFile> files) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonWriter json = new JsonWriter(out)) {
            json.setHtmlSafe(false);
            json.beginObject().name("version").value(version).name("files").beginArray();
            for (InputFile f : files) {
                json.beginObject().name("name").value(f.name()).name("text").value(f.text()).endObject();
            }
            json.endArray().endObject();
        }
        return out.toString();
    }

    /** Appends a line; a file left ending mid-line by a crash gets its line break first. */
    static void appendLine(Path file, String line) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long size = channel.size();
            StringBuilder text = new StringBuilder(line.length() + 2);
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                channel.read(last, size - 1);
                if (last.get(0) != '\n') {
                    text.append('\n');
                }
            }
            text.append(line).append('\n');
            ByteBuffer buffer = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (buffer.hasRemaining()) {
                size += channel.write(buffer, size);
            }
        }
    }
}
