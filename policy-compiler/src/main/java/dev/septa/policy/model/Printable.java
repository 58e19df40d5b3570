package dev.septa.policy.model;

/**
 * Outside text made safe to quote in a one-line message (an error, a log line, a 400): control characters,
 * including line and paragraph separators, become a backslash-u escape (<code>&#92;u000a</code>), so that input can
 * neither break a line nor forge one. The one place Septa does this.
 */
public final class Printable {
    private Printable() {
    }

    /** {@code text} with its control characters escaped; everything else unchanged. */
    public static String escape(String text) {
        if (text.codePoints().noneMatch(Printable::control)) {
            return text;
        }
        var out = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(c -> {
            if (control(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** {@link #escape} of the first {@code max} characters, and {@code ...} when there were more. */
    public static String cut(String text, int max) {
        return text.length() > max ? escape(text.substring(0, max)) + "..." : escape(text);
    }

    private static boolean control(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }
}
