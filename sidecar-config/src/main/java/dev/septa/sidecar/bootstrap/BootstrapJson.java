package dev.septa.sidecar.bootstrap;

import java.util.Map;

/** JSON text of a bootstrap map (maps, lists, strings, numbers, booleans), keeping key order. */
public final class BootstrapJson {
    private BootstrapJson() {
    }

    public static String toJson(Map<String, ?> bootstrap) {
        return JsonValues.json(bootstrap);
    }
}
