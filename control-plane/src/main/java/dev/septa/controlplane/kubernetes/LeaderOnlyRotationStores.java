package dev.septa.controlplane.kubernetes;

import dev.septa.ca.CaKeyStore;
import dev.septa.ca.CaMaterial;
import dev.septa.ca.CaStoreException;
import dev.septa.ca.RotationStores;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The CA's stores with every write checked against leadership just before it happens: a replica that is not (or no
 * longer) the leader reads the CA and the stage, and any save, create, delete or stage write fails with a
 * {@link CaStoreException} that names why (the rotation driver retries; by then it follows instead).
 */
public final class LeaderOnlyRotationStores implements RotationStores {
    private final RotationStores stores;
    private final BooleanSupplier mayWrite;

    public LeaderOnlyRotationStores(RotationStores stores, BooleanSupplier mayWrite) {
        this.stores = stores;
        this.mayWrite = mayWrite;
    }

    private void check(String what) {
        if (!mayWrite.getAsBoolean()) {
            throw new CaStoreException("not the leader: " + what + " is left to the replica holding Lease " + LeaderElection.LEASE);
        }
    }

    private CaKeyStore gated(CaKeyStore store) {
        return new CaKeyStore() {
            @Override
            public Optional<CaMaterial> load() {
                return store.load();
            }

            @Override
            public void save(CaMaterial material) {
                check("saving " + store.location());
                store.save(material);
            }

            @Override
            public boolean create(CaMaterial material) {
                check("creating " + store.location());
                return store.create(material);
            }

            @Override
            public void delete() {
                check("deleting " + store.location());
                store.delete();
            }

            @Override
            public String location() {
                return store.location();
            }
        };
    }

    @Override
    public CaKeyStore current() {
        return gated(stores.current());
    }

    @Override
    public CaKeyStore next() {
        return gated(stores.next());
    }

    @Override
    public CaKeyStore incoming() {
        return gated(stores.incoming());
    }

    @Override
    public boolean incomingPresent() {
        return stores.incomingPresent();
    }

    @Override
    public String readStage() {
        return stores.readStage();
    }

    @Override
    public void writeStage(String stage) {
        check("writing the rotation stage");
        stores.writeStage(stage);
    }

    @Override
    public String stagingHint() {
        return stores.stagingHint();
    }

    @Override
    public String toString() {
        return "LeaderOnly" + stores;
    }
}
