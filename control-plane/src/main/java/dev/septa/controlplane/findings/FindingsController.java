package dev.septa.controlplane.findings;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * {@code GET /api/findings[?kind=PROBING|NEW_EDGE|WOULD_DENY]}: {@link FindingsJson}. Reads go through the HTTP API's
 * access filter like {@code /api/graph}. An unknown kind is a 400 naming the kinds.
 */
@Controller
public class FindingsController {
    private final FindingsDetector detector;
    private final FindingsRuntime runtime;

    public FindingsController(FindingsDetector detector, FindingsRuntime runtime) {
        this.detector = detector;
        this.runtime = runtime;
    }

    @Get(uri = "/api/findings", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> findings(@Nullable @QueryValue String kind) {
        FindingKind only = null;
        if (kind != null && !kind.isBlank()) {
            try {
                only = FindingKind.valueOf(kind.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                return HttpResponse.badRequest("kind must be one of PROBING, NEW_EDGE, WOULD_DENY\n");
            }
        }
        return HttpResponse.ok(json(only));
    }

    FindingsJson json(FindingKind only) {
        long now = System.currentTimeMillis();
        FindingsDetector.Status s = detector.status(now);
        FindingsStore store = detector.store();
        FindingKind filter = only;
        List<Finding> list = store.list().stream().filter(f -> filter == null || f.kind() == filter).toList();
        String newEdge = !s.newEdgeDetection() ? "off: more than " + runtime.limits().maxKnownEdges()
                + " distinct allowed edges during the learning window"
                : s.learningEndsAt() == null ? "learning starts with the first call"
                : s.learning() ? "learning until " + s.learningEndsAt() : "on";
        return new FindingsJson(Instant.ofEpochMilli(now).toString(),
                new FindingsJson.Detection(s.detection().probeThreshold(), s.detection().probeWindow().toSeconds(),
                        s.detection().learningWindow().toSeconds(),
                        s.learningEndsAt() == null ? null : s.learningEndsAt().toString(), newEdge),
                new FindingsJson.Limits(store.maxFindings(), runtime.limits().maxSources(), runtime.limits().maxKnownEdges()),
                new FindingsJson.Counters(store.raisedByKind(), store.evicted(), s.trackedSources(), s.knownEdges(),
                        s.untrackedDenials(), runtime.sinkDropped()),
                list);
    }
}
