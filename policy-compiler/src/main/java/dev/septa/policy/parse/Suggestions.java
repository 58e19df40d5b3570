package dev.septa.policy.parse;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean": the closest known word within a small edit distance, case-insensitive. */
public final class Suggestions {
    private Suggestions() { }

    public static Optional<String> closest(String word, Collection<String> known) {
        String w = word.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(w, candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance || (d == bestDistance && best != null && candidate.compareTo(best) < 0)) {
                best = candidate;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, w.length() / 3);
        return best != null && bestDistance <= allowed && bestDistance < w.length() ? Optional.of(best) : Optional.empty();
    }

    /** {@code "; did you mean 'x'?"} or the empty string. */
    public static String didYouMean(String word, Collection<String> known) {
        return closest(word, known).map(s -> "; did you mean '" + s + "'?").orElse("");
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
