package dev.septa.policy.model;

import java.util.List;

/** Who may (or may not) talk to whom. The RBAC policies it produces are named {@code ns/name}. */
public record Intent(ObjectMeta metadata, Action action, Mode mode, List<Peer> from, Target to, Source source) {
    public Intent {
        from = from == null ? List.of() : List.copyOf(from);
    }

    public String qualifiedName() {
        return metadata.qualifiedName();
    }
}
