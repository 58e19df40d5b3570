package dev.septa.ca;

import dev.septa.identity.SpiffeId;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the CSR validator with arbitrary DER or PEM: every input is either accepted (and then its key passed the key
 * policy) or refused with an {@link IssuanceRefusedException}, never another exception, each within two seconds.
 * Seeds: CSRs made by openssl (EC P-256, RSA 2048, with and without a SAN, PEM and DER), in
 * {@code CsrValidatorFuzzTestInputs/check}.
 */
class CsrValidatorFuzzTest {
    private static final SpiffeId ID = SpiffeId.of("cluster.local", "shop", "payments");
    private static final long BOUND_NANOS = 2_000_000_000L;

    static {
        // Warm-up, outside the per-input bound: BouncyCastle's and the JDK's key and signature classes (the first CSR
        // took 2.4 s at a load average of 40).
        try (var in = CsrValidatorFuzzTest.class.getResourceAsStream("CsrValidatorFuzzTestInputs/check/ec-p256-san.pem")) {
            CsrValidator.check(in.readAllBytes(), ID);
        } catch (java.io.IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void check(byte[] csr) {
        long start = System.nanoTime();
        try {
            CsrValidator.CheckedCsr checked = CsrValidator.check(csr, ID);
            assertThat(checked.publicKey()).isNotNull();
        } catch (IssuanceRefusedException refused) {
            assertThat(refused.getMessage()).isNotBlank();
        }
        long took = System.nanoTime() - start;
        if (took > BOUND_NANOS) {
            throw new AssertionError("one CSR took " + took / 1_000_000 + " ms; the bound is 2000 ms");
        }
    }
}
