package dev.septa.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as operators write them: {@code 90s}, {@code 30m}, {@code 1h30m}, {@code 365d}, or ISO-8601 {@code PT1H}. */
final class CaDurations {

    private static final Pattern SHORT = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

    private CaDurations() {
    }

    static Duration parse(String text) {
        String t = text.strip().toLowerCase(java.util.Locale.ROOT);
        if (t.startsWith("p")) {
            try {
                return Duration.parse(t.toUpperCase(java.util.Locale.ROOT));
            } catch (java.time.format.DateTimeParseException e) {
                throw bad(text);
            }
        }
        Matcher m = SHORT.matcher(t);
        if (t.isEmpty() || !m.matches()) {
            throw bad(text);
        }
        Duration d = Duration.ZERO;
        long[] unitSeconds = {86_400, 3_600, 60, 1};
        for (int i = 0; i < 4; i++) {
            if (m.group(i + 1) != null) {
                d = d.plusSeconds(Long.parseLong(m.group(i + 1)) * unitSeconds[i]);
            }
        }
        return d;
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 30m, 1h, 1h30m, 365d or PT1H");
    }
}
