package dev.septa.controlplane.certs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.ca.RenewalSchedule;
import dev.septa.ca.RetryBackoff;
import dev.septa.controlplane.xds.SecretSink;
import dev.septa.controlplane.xds.TypeResources;
import dev.septa.identity.KeyedCertificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The renewal loop on a manual clock: schedule, reconnect, backoff, TTL changes. No timing: the test drives the ticks. */
class SecretRenewalTest {
    private static final Instant T0 = Instant.parse("2026-11-25T12:00:00Z");

    private final ManualClock clock = new ManualClock(T0);
    private final FakeCertificates certificates = new FakeCertificates(clock);
    private final FakeSink sink = new FakeSink();
    private final FixedIdentities identities = new FixedIdentities();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private SecretIssuer issuer;

    private SecretIssuer issuer(java.util.function.DoubleSupplier random) {
        var options = new SecretIssuer.Options(RenewalSchedule.DEFAULT, RetryBackoff.DEFAULT, Duration.ofDays(365), null, random);
        issuer = new SecretIssuer(certificates, identities, sink, clock, new SecretIssuer.Listener() {
            @Override
            public void issued(String nodeId, KeyedCertificate certificate) {
            }

            @Override
            public void renewalFailed(String nodeId, String error, int count, Instant retryAt) {
                failures.add(nodeId + " #" + count + " " + error);
            }
        }, options);
        return issuer;
    }

    @AfterEach
    void close() {
        if (issuer != null) {
            issuer.close();
        }
    }

    private void connect(String node) {
        sink.connected.add(node);
        issuer.requestSecrets(node);
    }

    @Test
    void renewsAtTheDrawnInstantAndPushesTheNewCertificate() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(1);
        assertThat(sink.pushes("shop/web-1")).hasSize(1);
        Instant renewAt = issuer.renewals().getFirst().renewAt();
        assertThat(renewAt).isEqualTo(T0.plus(Duration.ofMinutes(30)));

        clock.set(renewAt.minusMillis(1));
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(1);

        clock.set(renewAt);
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2);
        assertThat(sink.pushes("shop/web-1")).hasSize(2).doesNotHaveDuplicates();
        assertThat(issuer.renewals().getFirst().notAfter()).isEqualTo(renewAt.plus(Duration.ofHours(1)));
    }

    /** Issue 11: the control plane's own identity is never issued to a workload, however it got into the inventory. */
    @Test
    void refusesToIssueTheControlPlanesOwnIdentity() throws Exception {
        issuer(() -> 0.5);
        connect("septa-system/control-plane");
        issuer.renewDueNow();
        assertThat(certificates.issued).isEmpty();
        assertThat(sink.pushes("septa-system/control-plane")).isEmpty();
        assertThat(failures).singleElement().asString().contains("septa-system/control-plane #1")
                .contains("spiffe://cluster.local/ns/septa-system/sa/control-plane")
                .contains("the control plane's own identity");
        connect("septa-system/other");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(1);
    }

    @Test
    void aFleetIssuedAtOnceIsRenewedSpreadOverTheJitterWindow() throws Exception {
        var random = new SplittableRandom(42);
        issuer(random::nextDouble);
        for (int i = 0; i < 2_000; i++) {
            connect("shop/w-" + i);
        }
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2_000);
        List<Instant> renewAt = issuer.renewals().stream().map(SecretIssuer.Renewal::renewAt).sorted().toList();
        assertThat(renewAt.getFirst()).isAfterOrEqualTo(T0.plus(Duration.ofMinutes(24))).isBefore(T0.plus(Duration.ofMinutes(25)));
        assertThat(renewAt.getLast()).isBefore(T0.plus(Duration.ofMinutes(36))).isAfter(T0.plus(Duration.ofMinutes(35)));
        // Halfway through the window about half the fleet has renewed, not all of it and not none.
        clock.set(T0.plus(Duration.ofMinutes(30)));
        issuer.renewDueNow();
        assertThat(certificates.issued.size() - 2_000).isBetween(850, 1_150);
        clock.set(T0.plus(Duration.ofMinutes(36)));
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(4_000);
    }

    /** Root rotation, stage 3: the fleet is re-issued from the new signer at an even pace over the window, not at once. */
    @Test
    void reissuingForANewSignerIsSpreadOverTheWindowAndTrackedBySigner() throws Exception {
        var random = new SplittableRandom(7);
        issuer(random::nextDouble);
        for (int i = 0; i < 1_000; i++) {
            connect("shop/w-" + i);
        }
        issuer.renewDueNow();
        assertThat(issuer.behind("bundle", "old-signer")).isEmpty();

        certificates.signer = "new-signer";
        issuer.reissueAll(Duration.ofMinutes(1));
        issuer.renewDueNow();
        int before = certificates.issued.size();
        assertThat(before - 1_000).as("re-issued at once").isLessThan(30);
        assertThat(issuer.behind("bundle", "new-signer")).hasSizeGreaterThan(970);

        clock.set(T0.plus(Duration.ofSeconds(30)));
        issuer.renewDueNow();
        assertThat(certificates.issued.size() - 1_000).as("re-issued after half the window").isBetween(400, 600);

        clock.set(T0.plus(Duration.ofSeconds(60)));
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2_000);
        assertThat(issuer.behind("bundle", "new-signer")).isEmpty();
        assertThat(issuer.behind("bundle", "old-signer")).hasSize(1_000);
        // The re-issued certificates follow the ordinary schedule again (50 % +- 10 % of their own lifetime).
        assertThat(issuer.renewals()).allSatisfy(r -> assertThat(r.renewAt()).isAfter(T0.plus(Duration.ofMinutes(24))));
    }

    /** A tick before anything is due looks at no node; the first tick at the renewal instant looks at the 100 due. */
    @Test
    void ticksBeforeTheEarliestRenewalSkipTheScanOfEveryNode() throws Exception {
        issuer(() -> 0.5);
        for (int i = 0; i < 100; i++) {
            connect("shop/w-" + i);
        }
        issuer.renewDueNow();
        Instant first = issuer.renewals().stream().map(SecretIssuer.Renewal::renewAt).min(Instant::compareTo).orElseThrow();
        long before = identities.lookups.get();
        for (int tick = 0; tick < 50; tick++) {
            clock.set(T0.plusSeconds(tick));
            issuer.renewDueNow();
        }
        assertThat(identities.lookups.get()).as("lookups while nothing is due").isEqualTo(before);
        clock.set(first);
        issuer.renewDueNow();
        assertThat(identities.lookups.get() - before).as("each due node once").isEqualTo(100);
        assertThat(certificates.issued).hasSize(200);
    }

    /**
     * The renewal queue: a tick looks up exactly the nodes that are due (not the fleet) and renews them in the order
     * they fell due, so a backlog is worked off oldest first.
     */
    @Test
    void aTickLooksOnlyAtWhatIsDueAndRenewsItInDueOrder() throws Exception {
        var random = new SplittableRandom(11);
        issuer(random::nextDouble);
        for (int i = 0; i < 1_000; i++) {
            connect("shop/w-" + i);
        }
        issuer.renewDueNow();
        List<SecretIssuer.Renewal> byDue = issuer.renewals().stream()
                .sorted(java.util.Comparator.comparing(SecretIssuer.Renewal::renewAt)).toList();
        Instant tick = byDue.get(99).renewAt();
        List<String> due = byDue.stream().filter(r -> !r.renewAt().isAfter(tick)).map(SecretIssuer.Renewal::spiffeId).toList();
        assertThat(due).hasSize(100);

        long lookups = identities.lookups.get();
        clock.set(tick);
        issuer.renewDueNow();
        assertThat(identities.lookups.get() - lookups).as("identity lookups in the tick").isEqualTo(100);
        assertThat(certificates.issued.subList(1_000, certificates.issued.size()))
                .extracting(KeyedCertificate::spiffeId).as("renewed oldest due first").containsExactlyElementsOf(due);

        lookups = identities.lookups.get();
        issuer.renewDueNow(); // the same instant again: nothing is due any more
        assertThat(identities.lookups.get()).isEqualTo(lookups);
        assertThat(certificates.issued).hasSize(1_100);
    }

    /** A node that went away keeps its certificate while valid, and the issuer forgets it once it expired. */
    @Test
    void aNodeAwayUntilItsCertificateExpiredIsForgottenAndCertifiedAfreshOnReturn() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        sink.connected.remove("shop/web-1");
        clock.set(T0.plus(Duration.ofMinutes(30)));
        issuer.renewDueNow(); // due while away: not renewed, kept until it expires
        assertThat(certificates.issued).hasSize(1);
        clock.set(T0.plus(Duration.ofMinutes(61)));
        issuer.renewDueNow(); // expired while away: dropped
        long lookups = identities.lookups.get();
        clock.set(T0.plus(Duration.ofHours(5)));
        issuer.renewDueNow();
        assertThat(identities.lookups.get()).as("nothing left to look at").isEqualTo(lookups);
        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2);
        assertThat(issuer.renewals().getFirst().notAfter()).isEqualTo(T0.plus(Duration.ofHours(6)));
    }

    @Test
    void aWorkloadDisconnectedPastItsRenewalIsRenewedWhenItReconnects() throws Exception {
        issuer(() -> 0.0);
        connect("shop/web-1");
        issuer.renewDueNow();
        String first = sink.pushes("shop/web-1").getLast();

        sink.connected.remove("shop/web-1");
        clock.set(T0.plus(Duration.ofMinutes(40)));
        issuer.renewDueNow();
        assertThat(certificates.issued).as("nothing issued for a node that is away").hasSize(1);

        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2);
        assertThat(sink.pushes("shop/web-1").getLast()).isNotEqualTo(first);
        assertThat(issuer.renewals().getFirst().notAfter()).isEqualTo(T0.plus(Duration.ofMinutes(100)));
    }

    @Test
    void aReconnectBeforeTheRenewalInstantReusesTheCertificate() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        sink.connected.remove("shop/web-1");
        issuer.renewDueNow();
        clock.set(T0.plus(Duration.ofMinutes(10)));
        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(1);
    }

    @Test
    void failedIssuanceIsRetriedWithBackoffAndVisibleLongBeforeExpiry() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        Instant renewAt = issuer.renewals().getFirst().renewAt();
        Instant notAfter = issuer.renewals().getFirst().notAfter();

        certificates.failing = true;
        clock.set(renewAt);
        issuer.renewDueNow();
        SecretIssuer.Renewal r = issuer.renewals().getFirst();
        assertThat(r.failing()).isTrue();
        assertThat(r.failures()).isEqualTo(1);
        assertThat(r.lastError()).contains("CA store unavailable");
        assertThat(r.retryAt()).isEqualTo(renewAt.plusMillis(500));
        assertThat(r.notAfter()).as("the old certificate stays in use").isEqualTo(notAfter);
        assertThat(Duration.between(clock.instant(), notAfter)).isGreaterThan(Duration.ofMinutes(29));
        assertThat(failures).containsExactly("shop/web-1 #1 CA store unavailable");

        issuer.renewDueNow(); // before retryAt: no attempt
        assertThat(certificates.attempts).isEqualTo(2);

        clock.set(r.retryAt());
        issuer.renewDueNow();
        r = issuer.renewals().getFirst();
        assertThat(r.failures()).isEqualTo(2);
        assertThat(r.retryAt()).isEqualTo(clock.instant().plusSeconds(1));
        clock.set(r.retryAt());
        issuer.renewDueNow();
        r = issuer.renewals().getFirst();
        assertThat(r.failures()).isEqualTo(3);
        assertThat(r.retryAt()).isEqualTo(clock.instant().plusSeconds(2));
        assertThat(certificates.attempts).isEqualTo(4);

        certificates.failing = false;
        clock.set(r.retryAt());
        issuer.renewDueNow();
        r = issuer.renewals().getFirst();
        assertThat(r.failing()).isFalse();
        assertThat(r.lastError()).isNull();
        assertThat(r.notAfter()).isAfter(notAfter);
        assertThat(sink.pushes("shop/web-1")).hasSize(2);
    }

    @Test
    void aNewCertificateTtlAppliesToCertificatesIssuedFromThenOn() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.ttls).containsExactly(Duration.ofHours(1));

        identities.ttl = Duration.ofMinutes(10);
        issuer.meshChanged();
        issuer.renewDueNow();
        assertThat(certificates.ttls).as("the certificate in use is not cut short").hasSize(1);

        clock.set(T0.plus(Duration.ofMinutes(30)));
        issuer.renewDueNow();
        assertThat(certificates.ttls).containsExactly(Duration.ofHours(1), Duration.ofMinutes(10));
        assertThat(issuer.renewals().getFirst().renewAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
        connect("shop/api-1");
        issuer.renewDueNow();
        assertThat(certificates.ttls).last().isEqualTo(Duration.ofMinutes(10));
    }

    /** A mesh change that leaves identities as they were sends no node its secrets again (nor builds them). */
    @Test
    void aMeshChangeThatKeepsIdentitiesSendsNoSecrets() throws Exception {
        issuer(() -> 0.5);
        for (int i = 0; i < 10; i++) {
            connect("shop/w-" + i);
        }
        issuer.renewDueNow();
        int sent = sink.calls.get();
        assertThat(sent).isEqualTo(10);
        issuer.meshChanged();
        issuer.renewDueNow(); // runs after the mesh change on the issuing thread
        assertThat(sink.calls.get()).isEqualTo(sent);
        issuer.trustBundleChanged(); // a new bundle does go to everyone
        issuer.renewDueNow();
        assertThat(sink.calls.get()).isEqualTo(sent + 10);
    }

    @Test
    void aNewIdentityIsCertifiedAtOnce() throws Exception {
        issuer(() -> 0.5);
        connect("shop/web-1");
        issuer.renewDueNow();
        identities.serviceAccount = "web-v2";
        issuer.meshChanged();
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2);
        assertThat(issuer.renewals().getFirst().spiffeId()).endsWith("/sa/web-v2");
    }

    static final class ManualClock extends Clock {
        private volatile Instant now;

        ManualClock(Instant now) {
            this.now = now;
        }

        void set(Instant t) {
            now = t;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** Certificates valid from now for the TTL asked; can be made to fail like an unavailable CA. */
    static final class FakeCertificates implements WorkloadCertificates {
        final Clock clock;
        final List<KeyedCertificate> issued = new CopyOnWriteArrayList<>();
        final List<Duration> ttls = new CopyOnWriteArrayList<>();
        volatile boolean failing;
        volatile int attempts;
        /** Which CA certificate signs, as a fingerprint (root rotation switches it). */
        volatile String signer = "old-signer";

        FakeCertificates(Clock clock) {
            this.clock = clock;
        }

        @Override
        public KeyedCertificate issueWorkload(String spiffeId, Duration ttl) {
            attempts++;
            if (failing) {
                throw new IllegalStateException("CA store unavailable");
            }
            Instant now = clock.instant();
            var cert = new KeyedCertificate(spiffeId, "chain-" + issued.size() + "-" + spiffeId, "key", now, now.plus(ttl), signer);
            issued.add(cert);
            ttls.add(ttl);
            return cert;
        }

        @Override
        public KeyedCertificate issueServing(String spiffeId, List<String> dnsNames, List<String> ipAddresses) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String trustBundlePem() {
            return "bundle";
        }
    }

    static final class FakeSink implements SecretSink {
        final Set<String> connected = ConcurrentHashMap.newKeySet();
        final Map<String, List<String>> published = new ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Set<String> connectedNodes() {
            return Set.copyOf(connected);
        }

        @Override
        public void publishSecrets(String nodeId, TypeResources secrets, Instant certificateExpiry) {
            calls.incrementAndGet();
            List<String> versions = published.computeIfAbsent(nodeId, k -> new CopyOnWriteArrayList<>());
            if (versions.isEmpty() || !versions.getLast().equals(secrets.version())) {
                versions.add(secrets.version());
            }
        }

        List<String> pushes(String nodeId) {
            return new ArrayList<>(published.getOrDefault(nodeId, List.of()));
        }
    }

    static final class FixedIdentities implements SecretIssuer.Identities {
        volatile Duration ttl = Duration.ofHours(1);
        volatile String serviceAccount;
        final java.util.concurrent.atomic.AtomicLong lookups = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public Optional<String> spiffeId(String nodeId) {
            lookups.incrementAndGet();
            String[] id = nodeId.split("/");
            String sa = serviceAccount != null && nodeId.equals("shop/web-1") ? serviceAccount : id[1];
            return Optional.of("spiffe://cluster.local/ns/" + id[0] + "/sa/" + sa);
        }

        @Override
        public Duration certificateTtl() {
            return ttl;
        }
    }
}
