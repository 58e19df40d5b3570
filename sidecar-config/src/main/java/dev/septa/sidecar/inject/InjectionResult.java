package dev.septa.sidecar.inject;

import io.fabric8.kubernetes.api.model.PodTemplateSpec;

/**
 * What the injector did with one pod (template).
 *
 * @param template the pod template after injection; the input's copy, unchanged, when nothing was injected
 * @param outcome  {@link Outcome#INJECTED}, or why not
 * @param reason   for people: what was done, or why nothing was
 */
public record InjectionResult(PodTemplateSpec template, Outcome outcome, String reason) {
    public enum Outcome {
        /** Sidecars, init container and volumes were added. */
        INJECTED,
        /** The pod already carries Septa's containers; injecting again would change nothing. */
        ALREADY_INJECTED,
        /** The pod opted out or cannot be injected (e.g. hostNetwork). */
        SKIPPED
    }

    public boolean injected() {
        return outcome == Outcome.INJECTED;
    }
}
