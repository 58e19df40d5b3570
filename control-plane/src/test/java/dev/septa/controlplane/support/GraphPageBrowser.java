package dev.septa.controlplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * Debian's headless Chromium driven by Playwright (no browser download), and the few cytoscape probes the graph
 * page tests share. Shared by the control plane's page test and e2e's test against the running demo.
 */
public final class GraphPageBrowser implements AutoCloseable {
    public static final Path CHROMIUM = Paths.get(System.getProperty("septa.chromium", "/usr/bin/chromium"));

    /** A page test body; may throw anything, the page is screenshotted first. */
    public interface PageTest {
        void run(Page page) throws Exception;
    }

    private final Playwright playwright;
    private final Browser browser;

    private GraphPageBrowser(Playwright playwright, Browser browser) {
        this.playwright = playwright;
        this.browser = browser;
    }

    public static GraphPageBrowser launch() {
        assertThat(Files.isExecutable(CHROMIUM))
                .as("headless Chromium at %s (apt-get install chromium; .ci/run installs it)", CHROMIUM).isTrue();
        Playwright playwright = Playwright.create(
                new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        // As root on a closed network: no sandbox, and no background connections that would be refused.
        Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(CHROMIUM)
                .setHeadless(true)
                .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync")));
        return new GraphPageBrowser(playwright, browser);
    }

    /** Runs {@code test} on a fresh 1400×850 page; on failure saves {@code target/<failureShot>} before rethrowing. */
    public void onPage(double timeoutMs, String failureShot, PageTest test) throws Exception {
        Page page = browser.newPage(new Browser.NewPageOptions().setViewportSize(1400, 850));
        page.setDefaultTimeout(timeoutMs);
        try {
            test.run(page);
        } catch (Throwable t) {
            page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", failureShot)));
            throw t;
        } finally {
            page.close();
        }
    }

    /** A cytoscape style property of an edge, whitespace removed, once the edge is drawn. */
    public static String style(Page page, String edgeId, String property) {
        page.waitForFunction("id => window.septa.cy.getElementById(id).nonempty()", edgeId);
        return (String) page.evaluate("([id, p]) => window.septa.cy.getElementById(id).style(p).replace(/\\s/g, '')",
                List.of(edgeId, property));
    }

    /**
     * A point on the edge, a third of the way from its source (clear of the label at the midpoint and of the
     * nodes at its ends), on the screen: cytoscape's rendered position plus the canvas's offset.
     */
    public static double[] screenPoint(Page page, String edgeId) {
        @SuppressWarnings("unchecked")
        List<Number> p = (List<Number>) page.evaluate("id => { const e = window.septa.cy.getElementById(id);"
                + " const s = e.renderedSourceEndpoint(), t = e.renderedTargetEndpoint();"
                + " const r = document.getElementById('cy').getBoundingClientRect();"
                + " return [r.left + s.x + (t.x - s.x) / 3, r.top + s.y + (t.y - s.y) / 3]; }", edgeId);
        return new double[]{p.get(0).doubleValue(), p.get(1).doubleValue()};
    }

    @Override
    public void close() {
        browser.close();
        playwright.close();
    }
}
