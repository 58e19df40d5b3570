package dev.septa.ca;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Keeps the CA in memory only: tests, benchmarks, and throw-away local runs. */
public final class InMemoryCaKeyStore implements CaKeyStore {

    private final AtomicReference<CaMaterial> material = new AtomicReference<>();

    @Override
    public Optional<CaMaterial> load() {
        return Optional.ofNullable(material.get());
    }

    @Override
    public void save(CaMaterial material) {
        this.material.set(material);
    }

    @Override
    public String location() {
        return "memory";
    }

    @Override
    public void delete() {
        material.set(null);
    }

    @Override
    public String toString() {
        return "InMemoryCaKeyStore";
    }
}
