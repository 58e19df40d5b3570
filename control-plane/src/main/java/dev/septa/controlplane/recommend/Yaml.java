package dev.septa.controlplane.recommend;

import java.util.Locale;

/** The few YAML spellings the recommendation writes. */
final class Yaml {
    private Yaml() { }

    /** A YAML scalar: plain when safe, else double-quoted. */
    static String scalar(String s) {
        return s.matches("[A-Za-z0-9][A-Za-z0-9._/-]*") && !s.matches("(?i)true|false|yes|no|on|off|null|~|[0-9.eE+-]+")
                ? s : '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** A double-quoted YAML string. */
    static String quoted(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** {@code s} as a Kubernetes name: lower case, [a-z0-9-], never empty. */
    static String name(String s) {
        String n = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        return n.isEmpty() ? "group" : n;
    }
}
