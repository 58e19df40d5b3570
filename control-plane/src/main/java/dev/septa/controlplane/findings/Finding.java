package dev.septa.controlplane.findings;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.util.List;

/**
 * One finding as {@code /api/findings}, the graph page's {@code finding} events, {@code septa findings} and the JSON
 * lines sink show it.
 *
 * @param id stable while the finding lives: {@code KIND source[ -> destination:port intent]}
 * @param source the calling workload ({@code ns/name}, or the SPIFFE ID or address of a caller outside the inventory)
 * @param destination the called workload; for {@link FindingKind#PROBING} the one of the call that raised it
 * @param port the destination port (likewise)
 * @param intent the deciding intent ({@code ns/name} or {@code default}; for WOULD_DENY the DryRun intent); null if unknown
 * @param samples up to 8 distinct requests, {@code METHOD /path} (empty for TCP)
 * @param targets up to 16 distinct {@code destination:port} the counted calls went to
 * @param firstSeen the first counted call (for PROBING the first denied call in the window that raised it)
 * @param count the calls counted into this finding since it was raised (PROBING: with those of the window that raised it)
 */
@Serdeable
public record Finding(String id, FindingKind kind, String source, String destination, int port, @Nullable String intent,
                      @Nullable List<String> samples, @Nullable List<String> targets, String firstSeen, String lastSeen, long count) {

    /** Serde leaves empty lists out; read back, they are empty again. */
    public Finding {
        samples = samples == null ? List.of() : List.copyOf(samples);
        targets = targets == null ? List.of() : List.copyOf(targets);
    }
}
