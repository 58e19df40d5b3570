package dev.septa.policy.parse;

import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.MtlsMode;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.Node;

/** Decodes a MeshConfig's {@code spec}: every field optional, each bounded, one {@code file:line:col} error per bad value. */
final class MeshConfigDecoder {
    private static final Pattern DURATION = Pattern.compile("(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");
    private static final Map<String, DefaultAction> DEFAULT_ACTIONS = ResourceDecoder.ordered("Allow", DefaultAction.ALLOW, "Deny", DefaultAction.DENY);
    private static final Map<String, MtlsMode> MTLS = ResourceDecoder.ordered("Strict", MtlsMode.STRICT, "Permissive", MtlsMode.PERMISSIVE);

    private final YamlReader r;

    MeshConfigDecoder(YamlReader reader) {
        this.r = reader;
    }

    /** {@code spec}, or the defaults when there is none; null after reporting an error. */
    MeshConfig decode(Node spec) {
        MeshConfig d = MeshConfig.DEFAULT;
        if (spec == null) {
            return d;
        }
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("trustDomain", "defaultAction", "mtls", "certificateTTL", "detection"));
        if (f == null) {
            return null;
        }
        String trustDomain = f.has("trustDomain") ? f.string("trustDomain") : d.trustDomain();
        if (trustDomain != null && (trustDomain.length() > 255 || !ResourceDecoder.SUBDOMAIN.matcher(trustDomain).matches())) {
            r.error(f.get("trustDomain"), "invalid trustDomain '" + trustDomain + "': a lowercase DNS name such as cluster.local");
            trustDomain = null;
        }
        DefaultAction defaultAction = f.has("defaultAction") ? r.enumValue(f.get("defaultAction"), "defaultAction", DEFAULT_ACTIONS) : d.defaultAction();
        MtlsMode mtls = f.has("mtls") ? r.enumValue(f.get("mtls"), "mtls", MTLS) : d.mtls();
        Duration ttl = f.has("certificateTTL") ? boundedDuration(f.get("certificateTTL"), "spec.certificateTTL",
                MeshConfig.MIN_CERTIFICATE_TTL, MeshConfig.MAX_CERTIFICATE_TTL, "5m and 24h (the CA issues no longer certificates)",
                "30m, 1h or 24h") : d.certificateTTL();
        MeshConfig.Detection detection = f.has("detection") ? detection(f.get("detection")) : d.detection();
        if (trustDomain == null || defaultAction == null || mtls == null || ttl == null || detection == null) {
            return null;
        }
        return new MeshConfig(trustDomain, defaultAction, mtls, ttl, detection);
    }

    /** {@code spec.detection}: each field optional, each bounded (docs/incident-response.md). */
    private MeshConfig.Detection detection(Node node) {
        MeshConfig.Detection d = MeshConfig.Detection.DEFAULT;
        YamlReader.Fields f = r.fields(node, "spec.detection", Set.of("probeThreshold", "probeWindow", "learningWindow"));
        if (f == null) {
            return null;
        }
        Integer threshold = d.probeThreshold();
        if (f.has("probeThreshold")) {
            threshold = f.integer("probeThreshold");
            if (threshold != null && (threshold < MeshConfig.Detection.MIN_PROBE_THRESHOLD
                    || threshold > MeshConfig.Detection.MAX_PROBE_THRESHOLD)) {
                r.error(f.get("probeThreshold"), "invalid probeThreshold " + threshold
                        + ": must be between 1 and 1000000 denied calls");
                threshold = null;
            }
        }
        Duration probeWindow = f.has("probeWindow") ? boundedDuration(f.get("probeWindow"), "spec.detection.probeWindow",
                MeshConfig.Detection.MIN_PROBE_WINDOW, MeshConfig.Detection.MAX_PROBE_WINDOW, "1s and 1h", "30s, 5m or 1h") : d.probeWindow();
        Duration learning = f.has("learningWindow") ? boundedDuration(f.get("learningWindow"), "spec.detection.learningWindow",
                MeshConfig.Detection.MIN_LEARNING_WINDOW, MeshConfig.Detection.MAX_LEARNING_WINDOW, "10s and 168h", "30s, 5m or 1h") : d.learningWindow();
        if (threshold == null || probeWindow == null || learning == null) {
            return null;
        }
        return new MeshConfig.Detection(threshold, probeWindow, learning);
    }

    /** A duration field ({@code XhYmZs}) between {@code min} and {@code max}; one error naming the field otherwise. */
    private Duration boundedDuration(Node node, String what, Duration min, Duration max, String range, String examples) {
        String value = r.string(node, what);
        if (value == null) {
            return null;
        }
        String field = what.substring(what.lastIndexOf('.') + 1);
        Matcher m = DURATION.matcher(value);
        if (value.isEmpty() || !m.matches()) {
            r.error(node, "invalid " + field + " '" + value + "': expected a duration such as " + examples);
            return null;
        }
        Duration d = ttl(m);
        if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            r.error(node, "invalid " + field + " '" + value + "': must be between " + range);
            return null;
        }
        return d;
    }

    /** The duration of {@code XhYmZs}, or null when a number is too large for any valid TTL (and for a long). */
    private static Duration ttl(Matcher m) {
        long total = 0;
        long[] unit = {3600, 60, 1};
        for (int i = 0; i < 3; i++) {
            String digits = m.group(i + 1);
            if (digits == null) {
                continue;
            }
            if (digits.length() > 9) {
                return null;
            }
            total += Long.parseLong(digits) * unit[i];
        }
        return Duration.ofSeconds(total);
    }
}
