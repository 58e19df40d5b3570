package dev.septa.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SpiffeIdTest {

    @Test
    void parsesWorkloadIds() {
        SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/payments");
        assertThat(id).isEqualTo(SpiffeId.of("cluster.local", "shop", "payments"));
        assertThat(id.uri()).isEqualTo("spiffe://cluster.local/ns/shop/sa/payments");
        assertThat(SpiffeId.parse("spiffe://td/ns/a-b/sa/x.y-z").serviceAccount()).isEqualTo("x.y-z");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://cluster.local/ns/shop/sa/payments|must start with 'spiffe://'",
            "spiffe:///ns/shop/sa/payments|trust domain is empty",
            "spiffe://cluster.local|no path",
            "spiffe://Cluster.local/ns/shop/sa/payments|may only contain",
            "spiffe://cluster.local:8080/ns/shop/sa/payments|may only contain",
            "spiffe://user@cluster.local/ns/shop/sa/payments|may only contain",
            "spiffe://cluster.local/shop/payments|exactly /ns/<namespace>/sa/<serviceAccount>",
            "spiffe://cluster.local/ns/shop/sa/payments/extra|exactly /ns/<namespace>/sa/<serviceAccount>",
            "spiffe://cluster.local/ns/shop/sa/|service account ''",
            "spiffe://cluster.local/ns/Shop/sa/payments|namespace 'Shop'",
            "spiffe://cluster.local/ns/../sa/payments|namespace '..'",
            "spiffe://cluster.local/ns/shop/sa/pay%20ments|service account 'pay%20ments'",
            "spiffe://cluster.local/ns/shop/sa/payments?x=1|service account 'payments?x=1'",
    })
    void refusesOtherForms(String text, String why) {
        assertThatThrownBy(() -> SpiffeId.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(why)
                .hasMessageContaining("expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "UPPER", "has space", "a:b"})
    void refusesBadTrustDomains(String td) {
        assertThatThrownBy(() -> SpiffeId.of(td, "ns", "sa")).hasMessageContaining("trust domain");
    }
}
