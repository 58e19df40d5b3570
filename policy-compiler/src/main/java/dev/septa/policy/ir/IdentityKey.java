package dev.septa.policy.ir;

import java.util.List;

/**
 * A cache key over objects compared by identity (IR values shared within one compile), so that workloads with
 * the same rules and reach share emitted resources instead of rebuilding (and re-serializing) them.
 */
public final class IdentityKey {
    private final Object[] parts;
    private final int hash;

    public IdentityKey(Object... parts) {
        this.parts = parts;
        int h = 1;
        for (Object p : parts) {
            h = 31 * h + System.identityHashCode(p);
        }
        this.hash = h;
    }

    /** A key over the elements of a list (each by identity), not the list object. */
    public static IdentityKey ofElements(List<?> items) {
        return new IdentityKey(items.toArray());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof IdentityKey k) || k.hash != hash || k.parts.length != parts.length) {
            return false;
        }
        for (int i = 0; i < parts.length; i++) {
            if (parts[i] != k.parts[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
