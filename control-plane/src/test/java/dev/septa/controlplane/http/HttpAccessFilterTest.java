package dev.septa.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which Host and Origin headers name this machine's loopback: exactly localhost, 127.0.0.1 and [::1], any port. */
class HttpAccessFilterTest {
    @Test
    void hostsThatNameLoopback() {
        for (String host : new String[] {"localhost", "LocalHost:15000", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:15000"}) {
            assertThat(HttpAccessFilter.localHost(host)).as(host).isTrue();
        }
        for (String host : new String[] {null, "", "localhost.rebound.example", "rebound.example:15000", "127.0.0.1.nip.io",
                "127.0.0.2:15000", "0.0.0.0:15000", "[::1]x", "[::1]:port", "127.0.0.1:15000:1", "::1", "[::2]:15000",
                "2130706433", "localhost:99999x"}) {
            assertThat(HttpAccessFilter.localHost(host)).as(String.valueOf(host)).isFalse();
        }
    }

    @Test
    void originsThatNameLoopback() {
        for (String origin : new String[] {null, "http://localhost:15000", "http://127.0.0.1", "https://[::1]:8443"}) {
            assertThat(HttpAccessFilter.localOrigin(origin)).as(String.valueOf(origin)).isTrue();
        }
        for (String origin : new String[] {"null", "http://rebound.example", "http://localhost.rebound.example:15000",
                "file:///tmp/x.html", "chrome-extension://abc", "http://127.0.0.2", "not a uri"}) {
            assertThat(HttpAccessFilter.localOrigin(origin)).as(origin).isFalse();
        }
    }
}
