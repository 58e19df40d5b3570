package dev.septa.bench;

import dev.septa.ca.CaConfig;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.InMemoryCaKeyStore;
import dev.septa.ca.IssuedCertificate;
import dev.septa.ca.WorkloadCredential;
import dev.septa.identity.SpiffeId;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Workload certificate issuance from a PKCS#10 CSR, end to end (parse, check the CSR signature and key,
 * build, sign, encode, parse back, self-verify), against the raw JDK floor of one ECDSA P-256 sign plus one
 * verify over a message the size of a certificate's TBS part. Goal: issuance at most 1.5x the floor, and at
 * least 2,000 certificates/s on 2 cores.
 *
 * <p>The machines are shared, so wall-clock throughput depends on who else is running. Each benchmark also
 * reports the thread CPU time it used ({@code cpuMicros}) and its operation count ({@code ops}) as
 * auxiliary counters: {@code cpuMicros / ops} is the CPU cost per operation, which other load barely moves,
 * and {@code 1e6 / that} is the rate one whole core would sustain.
 *
 * <pre>
 * ./mvnw -B -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar Issuance -f 1 -wi 3 -i 5 -w 2s -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class IssuanceBenchmark {

    static final SpiffeId ID = SpiffeId.of("cluster.local", "shop", "payments");
    static final Duration TTL = Duration.ofHours(1);

    CertificateAuthority ca;
    byte[] csr;
    KeyPair floorKeys;
    byte[] tbs;

    @Setup
    public void setUp() throws Exception {
        ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair workload = generator.generateKeyPair();
        csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=bench"), workload.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(workload.getPrivate()))
                .getEncoded();
        floorKeys = generator.generateKeyPair();
        IssuedCertificate sample = ca.issue(csr, ID, TTL);
        tbs = sample.leaf().getTBSCertificate();
    }

    /** Per-thread CPU time and operation count, summed by JMH over each iteration's threads. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        public long cpuMicros;
        public long ops;

        long start() {
            return THREADS.getCurrentThreadCpuTime();
        }

        void stop(long start) {
            cpuMicros += (THREADS.getCurrentThreadCpuTime() - start) / 1_000;
            ops++;
        }
    }

    @Benchmark
    @Threads(1)
    public IssuedCertificate issueFromCsr(CpuTime cpu) {
        return issue(cpu);
    }

    @Benchmark
    @Threads(2)
    public IssuedCertificate issueFromCsr2Threads(CpuTime cpu) {
        return issue(cpu);
    }

    @Benchmark
    @Threads(1)
    public boolean rawSignAndVerify(CpuTime cpu) throws Exception {
        return raw(cpu);
    }

    @Benchmark
    @Threads(2)
    public boolean rawSignAndVerify2Threads(CpuTime cpu) throws Exception {
        return raw(cpu);
    }

    /**
     * The SDS path: what the control plane does for each workload secret it serves (a fresh P-256 key pair, the
     * certificate for it, the PKCS#8 PEM of the key), as {@code CaWorkloadCertificates.issueWorkload} does.
     */
    @Benchmark
    @Threads(1)
    public String sdsCredential(CpuTime cpu) {
        return credential(cpu);
    }

    @Benchmark
    @Threads(2)
    public String sdsCredential2Threads(CpuTime cpu) {
        return credential(cpu);
    }

    private String credential(CpuTime cpu) {
        long start = cpu.start();
        WorkloadCredential credential = ca.issueWorkloadCredential(ID, TTL);
        String pem = credential.privateKeyPkcs8Pem() + credential.certificate().certificateChainPem();
        cpu.stop(start);
        return pem;
    }

    private IssuedCertificate issue(CpuTime cpu) {
        long start = cpu.start();
        IssuedCertificate issued = ca.issue(csr, ID, TTL);
        cpu.stop(start);
        return issued;
    }

    private boolean raw(CpuTime cpu) throws Exception {
        long start = cpu.start();
        boolean ok = rawVerify(rawSign());
        cpu.stop(start);
        return ok;
    }

    private byte[] rawSign() throws Exception {
        Signature signature = Signature.getInstance("SHA256withECDSA");
        signature.initSign(floorKeys.getPrivate());
        signature.update(tbs);
        return signature.sign();
    }

    private boolean rawVerify(byte[] signed) throws Exception {
        Signature signature = Signature.getInstance("SHA256withECDSA");
        signature.initVerify(floorKeys.getPublic());
        signature.update(tbs);
        return signature.verify(signed);
    }
}
