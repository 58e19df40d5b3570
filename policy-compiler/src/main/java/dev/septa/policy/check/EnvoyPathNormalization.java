package dev.septa.policy.check;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What an Envoy HttpConnectionManager does to {@code :path} before any HTTP filter (RBAC included) sees it, as its
 * {@code normalize_path}, {@code merge_slashes} and {@code path_with_escaped_slashes_action} say
 * ({@code ConnectionManagerUtility::maybeNormalizePath}), so that {@code septa check} matches the path the proxy's
 * RBAC matches. In Envoy's order: escaped slashes ({@code %2F}, {@code %5C}, either case) unescaped; RFC 3986
 * normalization by Envoy's snapshot of Chromium's {@code CanonicalizePath} (dot segments removed, {@code %2e} is a
 * dot, a backslash is a slash, escaped unreserved characters decoded, characters outside the path set escaped);
 * then runs of slashes merged. Only the part before {@code ?} is touched.
 *
 * <p>{@link #apply} is empty when Envoy answers the request itself instead of running its filters with a 400: an
 * escaped slash under {@code REJECT_REQUEST}, or a path the canonicalizer refuses (an escaped or literal NUL). Under
 * {@code UNESCAPE_AND_REDIRECT} Envoy answers with a redirect to the normalized path; the request that follows the
 * redirect is decided on that path, which is what this returns.
 */
record EnvoyPathNormalization(boolean normalize, boolean mergeSlashes, PathWithEscapedSlashesAction escapedSlashes) {
    /** No normalization: gRPC's server, or an HCM that asks for none. */
    static final EnvoyPathNormalization NONE =
            new EnvoyPathNormalization(false, false, PathWithEscapedSlashesAction.KEEP_UNCHANGED);

    /**
     * The HCM's settings. Unset {@code normalize_path} and {@code IMPLEMENTATION_SPECIFIC_DEFAULT} take Envoy's
     * defaults (runtime {@code http_connection_manager.normalize_path} false; escaped slashes kept).
     */
    static EnvoyPathNormalization of(HttpConnectionManager hcm) {
        PathWithEscapedSlashesAction action = hcm.getPathWithEscapedSlashesAction();
        if (action == PathWithEscapedSlashesAction.IMPLEMENTATION_SPECIFIC_DEFAULT
                || action == PathWithEscapedSlashesAction.UNRECOGNIZED) {
            action = PathWithEscapedSlashesAction.KEEP_UNCHANGED;
        }
        return new EnvoyPathNormalization(hcm.hasNormalizePath() && hcm.getNormalizePath().getValue(),
                hcm.getMergeSlashes(), action);
    }

    /** The path the HTTP filters see, or empty when Envoy rejects the request (400) before they run. */
    Optional<String> apply(String path) {
        if (path == null) {
            return Optional.empty();
        }
        if (equals(NONE)) {
            return Optional.of(path); // grpc-java: the path as sent, fragment and all
        }
        int hash = path.indexOf('#');
        if (hash >= 0) {
            path = path.substring(0, hash); // what url_path matches too (RbacRequest.urlPath)
        }
        int q = path.indexOf('?');
        String p = q < 0 ? path : path.substring(0, q);
        String query = q < 0 ? "" : path.substring(q);
        if (escapedSlashes != PathWithEscapedSlashesAction.KEEP_UNCHANGED) {
            String unescaped = unescapeSlashes(p);
            if (!unescaped.equals(p) && escapedSlashes == PathWithEscapedSlashesAction.REJECT_REQUEST) {
                return Optional.empty();
            }
            p = unescaped;
        }
        if (normalize) {
            Optional<String> canonical = canonicalize(p);
            if (canonical.isEmpty()) {
                return Optional.empty();
            }
            p = canonical.get();
        }
        if (mergeSlashes) {
            p = mergeSlashes(p);
        }
        return Optional.of(p + query);
    }

    static String unescapeSlashes(String p) {
        if (p.indexOf('%') < 0) {
            return p;
        }
        return p.replace("%2F", "/").replace("%2f", "/").replace("%5C", "\\").replace("%5c", "\\");
    }

    /** Envoy's {@code PathUtil::mergeSlashes}: keeps one leading and one trailing slash, joins the rest. */
    static String mergeSlashes(String p) {
        if (!p.contains("//")) {
            return p;
        }
        StringBuilder out = new StringBuilder(p.length());
        if (p.startsWith("/")) {
            out.append('/');
        }
        boolean first = true;
        for (String segment : p.split("/")) {
            if (!segment.isEmpty()) {
                if (!first) {
                    out.append('/');
                }
                out.append(segment);
                first = false;
            }
        }
        if (p.endsWith("/")) { // so "//" stays "//", as in Envoy
            out.append('/');
        }
        return out.toString();
    }

    // --- Chromium's CanonicalizePath, as Envoy vendors it (source/common/chromium_url/url_canon_path.cc) ---

    private static final byte PASS = 0;
    private static final byte SPECIAL = 1;
    private static final byte ESCAPE_BIT = 2;
    private static final byte ESCAPE = ESCAPE_BIT | SPECIAL;
    private static final byte UNESCAPE = 4;
    private static final byte INVALID_BIT = 8;
    private static final byte INVALID = INVALID_BIT | SPECIAL;

    /** Per byte: kept as is, escaped in the output, unescaped when it arrives escaped, or refused. */
    private static final byte[] PATH_CHARS = new byte[256];

    static {
        java.util.Arrays.fill(PATH_CHARS, ESCAPE); // controls, space, DEL and every byte >= 0x80
        PATH_CHARS[0] = INVALID;
        for (char c : "!$&'()*+,/:;=@[]".toCharArray()) {
            PATH_CHARS[c] = PASS;
        }
        for (char c = '0'; c <= '9'; c++) {
            PATH_CHARS[c] = UNESCAPE;
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            PATH_CHARS[c] = UNESCAPE;
            PATH_CHARS[Character.toLowerCase(c)] = UNESCAPE;
        }
        for (char c : "-_~".toCharArray()) {
            PATH_CHARS[c] = UNESCAPE;
        }
        PATH_CHARS['.'] = SPECIAL;
        // '"', '#', '%', '<', '>', '?', '\\', '^', '`', '{', '|', '}' stay ESCAPE ('%' and '\\' are handled first)
    }

    /** Empty when Chromium reports failure (a NUL, escaped or not), which Envoy turns into a 400. */
    static Optional<String> canonicalize(String path) {
        byte[] spec = path.getBytes(StandardCharsets.UTF_8);
        Output out = new Output();
        int end = spec.length;
        if (end == 0) {
            out.push('/');
            return Optional.of(out.toString());
        }
        if (!isSlash(spec[0])) {
            out.push('/');
        }
        int begin = 0; // where the path starts in the output
        int lastInvalidPercent = Integer.MIN_VALUE;
        boolean success = true;
        for (int i = 0; i < end; i++) {
            int ch = spec[i] & 0xff;
            byte flags = PATH_CHARS[ch];
            if ((flags & SPECIAL) == 0) {
                out.push(ch);
                continue;
            }
            int dotLen = isDot(spec, i, end);
            if (dotLen > 0) {
                if (out.length() > begin && out.at(out.length() - 1) == '/') {
                    int[] consumed = new int[1];
                    switch (classifyAfterDot(spec, i + dotLen, end, consumed)) {
                        case NOT_A_DIRECTORY -> {
                            out.push('.');
                            i += dotLen - 1;
                        }
                        case CURRENT -> i += dotLen + consumed[0] - 1;
                        case UP -> {
                            backUpToPreviousSlash(begin, out);
                            i += dotLen + consumed[0] - 1;
                        }
                    }
                } else {
                    out.push('.');
                    i += dotLen - 1;
                }
            } else if (ch == '\\') {
                out.push('/');
            } else if (ch == '%') {
                int decoded = decodeEscaped(spec, i, end);
                if (decoded >= 0) {
                    i += 2;
                    byte unescapedFlags = PATH_CHARS[decoded];
                    if ((unescapedFlags & UNESCAPE) != 0) {
                        out.push(decoded);
                        if (lastInvalidPercent >= out.length() - 3) {
                            checkForNestedEscapes(spec, i + 1, end, lastInvalidPercent, out);
                        }
                    } else {
                        out.push('%');
                        out.push(spec[i - 1] & 0xff);
                        out.push(spec[i] & 0xff);
                        if ((unescapedFlags & INVALID_BIT) != 0) {
                            success = false;
                        }
                    }
                } else {
                    lastInvalidPercent = out.length();
                    out.push('%');
                }
            } else if ((flags & INVALID_BIT) != 0) {
                out.pushEscaped(ch);
                success = false;
            } else if ((flags & ESCAPE_BIT) != 0) {
                out.pushEscaped(ch);
            }
        }
        return success ? Optional.of(out.toString()) : Optional.empty();
    }

    private enum Dot { NOT_A_DIRECTORY, CURRENT, UP }

    private static boolean isSlash(int b) {
        return b == '/' || b == '\\';
    }

    /** 1 for {@code .}, 3 for {@code %2e}/{@code %2E}, else 0. */
    private static int isDot(byte[] spec, int offset, int end) {
        if (spec[offset] == '.') {
            return 1;
        }
        if (spec[offset] == '%' && offset + 3 <= end && spec[offset + 1] == '2'
                && (spec[offset + 2] == 'e' || spec[offset + 2] == 'E')) {
            return 3;
        }
        return 0;
    }

    private static Dot classifyAfterDot(byte[] spec, int afterDot, int end, int[] consumed) {
        if (afterDot == end) {
            consumed[0] = 0;
            return Dot.CURRENT;
        }
        if (isSlash(spec[afterDot])) {
            consumed[0] = 1;
            return Dot.CURRENT;
        }
        int second = isDot(spec, afterDot, end);
        if (second > 0) {
            int after = afterDot + second;
            if (after == end) {
                consumed[0] = second;
                return Dot.UP;
            }
            if (isSlash(spec[after])) {
                consumed[0] = second + 1;
                return Dot.UP;
            }
        }
        consumed[0] = 0;
        return Dot.NOT_A_DIRECTORY;
    }

    /** The output ends with a slash; drop the last segment, never going above {@code begin}. */
    private static void backUpToPreviousSlash(int begin, Output out) {
        int i = out.length() - 1;
        if (i == begin) {
            return;
        }
        i--;
        while (out.at(i) != '/' && i > begin) {
            i--;
        }
        out.setLength(i + 1);
    }

    /** The byte {@code %XY} at {@code i} stands for, or -1 when it is not a valid escape. */
    private static int decodeEscaped(byte[] spec, int i, int end) {
        if (i + 3 > end) {
            return -1;
        }
        int hi = Character.digit(spec[i + 1] & 0xff, 16);
        int lo = Character.digit(spec[i + 2] & 0xff, 16);
        boolean ascii = (spec[i + 1] & 0x80) == 0 && (spec[i + 2] & 0x80) == 0;
        return ascii && hi >= 0 && lo >= 0 ? (hi << 4) + lo : -1;
    }

    /** {@code %%300} must not become the valid escape {@code %00} once the inner {@code %30} is decoded. */
    private static void checkForNestedEscapes(byte[] spec, int next, int end, int lastInvalidPercent, Output out) {
        int length = out.length();
        int lastUnescaped = out.at(length - 1);
        boolean appendNext = lastInvalidPercent == length - 2;
        if (appendNext) {
            if (next == end || (spec[next] & 0x80) != 0) {
                return;
            }
            out.push(spec[next] & 0xff);
        }
        if (decodeEscaped(out.bytes(), lastInvalidPercent, out.length()) >= 0) {
            if (!appendNext) {
                out.push(out.at(lastInvalidPercent + 1));
            }
            out.set(lastInvalidPercent + 1, '2');
            out.set(lastInvalidPercent + 2, '5');
            out.push(lastUnescaped);
        } else if (appendNext) {
            out.setLength(length);
        }
    }

    /** A byte buffer that can shrink and be overwritten, like Chromium's CanonOutput. */
    private static final class Output {
        private byte[] buf = new byte[64];
        private int len;

        void push(int b) {
            if (len == buf.length) {
                buf = java.util.Arrays.copyOf(buf, len * 2);
            }
            buf[len++] = (byte) b;
        }

        void pushEscaped(int b) {
            push('%');
            push(Character.toUpperCase(Character.forDigit(b >> 4, 16)));
            push(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
        }

        int at(int i) {
            return buf[i] & 0xff;
        }

        void set(int i, int b) {
            buf[i] = (byte) b;
        }

        int length() {
            return len;
        }

        void setLength(int n) {
            len = n;
        }

        byte[] bytes() {
            return java.util.Arrays.copyOf(buf, len);
        }

        @Override
        public String toString() {
            // Every byte is ASCII: whatever was not is escaped.
            return new String(buf, 0, len, StandardCharsets.ISO_8859_1);
        }
    }
}
