package dev.septa.controlplane.xds;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Versions are content hashes (SHA-256 of deterministic protobuf bytes), so equal content means equal version. */
final class ContentHash {
    private final MessageDigest digest;
    private final byte[] length = new byte[4];

    ContentHash() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    ContentHash add(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        addLength(bytes.length);
        digest.update(bytes);
        return this;
    }

    ContentHash add(byte[] bytes) {
        addLength(bytes.length);
        digest.update(bytes);
        return this;
    }

    ContentHash add(Message message) {
        byte[] bytes = deterministicBytes(message);
        addLength(bytes.length);
        digest.update(bytes);
        return this;
    }

    private void addLength(int length) {
        this.length[0] = (byte) (length >>> 24);
        this.length[1] = (byte) (length >>> 16);
        this.length[2] = (byte) (length >>> 8);
        this.length[3] = (byte) length;
        digest.update(this.length);
    }

    /** 16 bytes of the digest in hex: plenty against accidental collisions, short in logs. */
    String hex() {
        return HexFormat.of().formatHex(digest.digest(), 0, 16);
    }

    static String of(Message message) {
        return new ContentHash().add(message).hex();
    }

    static byte[] deterministicBytes(Message message) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(message.getSerializedSize());
            CodedOutputStream coded = CodedOutputStream.newInstance(out);
            coded.useDeterministicSerialization();
            message.writeTo(coded);
            coded.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
