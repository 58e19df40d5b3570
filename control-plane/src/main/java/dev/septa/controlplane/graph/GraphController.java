package dev.septa.controlplane.graph;

import io.micronaut.context.BeanProvider;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.sse.Event;
import io.micronaut.core.annotation.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The traffic graph over HTTP: the page ({@code /graph}), its JSON ({@code /api/graph}), and live updates as
 * server-sent events ({@code /api/graph/events}, one {@code graph} event with the whole {@link GraphJson}
 * whenever something was recorded, at most once a second, and at least every few seconds so rates decay).
 * cytoscape.js is served from its webjar on the classpath, so the page needs no network and no static-resource
 * configuration.
 */
@Controller
public class GraphController {
    static final String CYTOSCAPE = "META-INF/resources/webjars/cytoscape/" + webjarVersion() + "/dist/cytoscape.min.js";
    private static final Map<String, String> ASSETS = Map.of(
            "graph.js", "graph/graph.js",
            "graph.css", "graph/graph.css",
            "graph-view.js", "graph/graph-view.js",
            "graph-findings.js", "graph/graph-findings.js",
            "cytoscape.min.js", CYTOSCAPE);
    private static final Duration PUSH_INTERVAL = Duration.ofSeconds(1);
    private static final int IDLE_PUSH_EVERY = 5;

    private final TrafficGraph graph;
    private final BeanProvider<WorkloadDirectory> directory;
    private final List<GraphEventSource> eventSources;
    private final Map<String, String> assetCache = new java.util.concurrent.ConcurrentHashMap<>();

    public GraphController(TrafficGraph graph, BeanProvider<WorkloadDirectory> directory, List<GraphEventSource> eventSources) {
        this.graph = graph;
        this.directory = directory;
        this.eventSources = List.copyOf(eventSources);
    }

    @Get(uri = "/graph", produces = MediaType.TEXT_HTML)
    public HttpResponse<String> page() {
        return HttpResponse.ok(resource("graph/index.html")).contentType(MediaType.TEXT_HTML_TYPE);
    }

    @Get(uri = "/graph/{file}")
    public HttpResponse<String> asset(@PathVariable String file) {
        String path = ASSETS.get(file);
        if (path == null) {
            return HttpResponse.notFound();
        }
        String type = file.endsWith(".css") ? "text/css" : "application/javascript";
        return HttpResponse.ok(assetCache.computeIfAbsent(path, GraphController::resource)).contentType(type + ";charset=utf-8")
                .header("Cache-Control", file.startsWith("cytoscape") ? "max-age=86400" : "no-cache");
    }

    /**
     * @param namespace comma-separated namespaces to show (edges touching them), or all
     * @param verdict ALLOW, DENY or WOULD_DENY, or all
     */
    @Get(uri = "/api/graph", produces = MediaType.APPLICATION_JSON)
    public GraphJson json(@Nullable @QueryValue String namespace, @Nullable @QueryValue String verdict) {
        return GraphJson.from(graph.snapshot(), inventory(), filter(namespace, verdict), quarantines());
    }

    @Get(uri = "/api/graph/events", produces = MediaType.TEXT_EVENT_STREAM)
    public Publisher<Event<?>> events(@Nullable @QueryValue String namespace, @Nullable @QueryValue String verdict) {
        GraphJson.Filter filter = filter(namespace, verdict);
        Flux<Event<?>> snapshots = Flux.defer(() -> {
            AtomicLong lastVersion = new AtomicLong(Long.MIN_VALUE);
            return Flux.interval(Duration.ZERO, PUSH_INTERVAL)
                    .filter(tick -> {
                        long v = graph.version();
                        return lastVersion.getAndSet(v) != v || tick % IDLE_PUSH_EVERY == 0;
                    })
                    .map(tick -> Event.of(GraphJson.from(graph.snapshot(), inventory(), filter, quarantines())).name("graph"));
        });
        if (eventSources.isEmpty()) {
            return snapshots;
        }
        List<Publisher<Event<?>>> all = new java.util.ArrayList<>();
        all.add(snapshots);
        eventSources.forEach(s -> all.add(s.events()));
        return Flux.merge(all);
    }

    private Map<String, String> quarantines() {
        return directory.isPresent() ? directory.get().quarantines() : Map.of();
    }

    private Collection<WorkloadRef> inventory() {
        return directory.isPresent() ? directory.get().workloads() : List.of();
    }

    private static GraphJson.Filter filter(String namespace, String verdict) {
        Set<String> ns = namespace == null || namespace.isBlank() ? null
                : Arrays.stream(namespace.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        return new GraphJson.Filter(ns, verdict == null || verdict.isBlank() ? null : verdict.trim());
    }

    private static String resource(String path) {
        try (InputStream in = GraphController.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path + " (is the cytoscape webjar on the classpath?)");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String webjarVersion() {
        try (InputStream in = GraphController.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.webjars.npm/cytoscape/pom.properties")) {
            var p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
