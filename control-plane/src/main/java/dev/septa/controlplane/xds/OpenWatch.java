package dev.septa.controlplane.xds;

import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.Watch;

/**
 * A request waiting for a change: exactly one of {@code sotw}/{@code delta} is set. {@code suppressedVersion} is
 * the version the client just NACKed: it is never resent, only a different version answers this watch.
 */
record OpenWatch(StreamSession session, String typeUrl, Watch sotw, DeltaWatch delta, String suppressedVersion) {}
