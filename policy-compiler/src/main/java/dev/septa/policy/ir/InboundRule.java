package dev.septa.policy.ir;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Mode;
import java.util.List;

/**
 * One intent's rule on one destination port. {@code principals} are OR'd; so are {@code matches}, where an
 * {@link HttpMatch} without methods and paths matches any request (and is the only kind on TCP ports).
 * Instances are shared by every member of the destination segment, so emitters may cache by identity.
 */
public record InboundRule(String policy, Action action, Mode mode, List<SourcePrincipal> principals, List<HttpMatch> matches) {
    public static final HttpMatch ANY = new HttpMatch(List.of(), List.of());

    public InboundRule {
        principals = List.copyOf(principals);
        matches = List.copyOf(matches);
    }
}
