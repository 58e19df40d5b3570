package dev.septa.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrintableTest {
    @Test
    void controlCharactersAndLineSeparatorsAreEscapedTheRestIsKept() {
        assertThat(Printable.escape("a\nb\r\tc\u0000d\u2028e\u2029f\u007f")).isEqualTo("a\\u000ab\\u000d\\u0009c\\u0000d\\u2028e\\u2029f\\u007f");
        assertThat(Printable.escape("checkout-1 ünïcødé 🔒")).isEqualTo("checkout-1 ünïcødé 🔒");
        assertThat(Printable.escape("")).isEmpty();
    }

    @Test
    void cutKeepsTheFirstCharactersAndSaysTheRestWasDropped() {
        assertThat(Printable.cut("x".repeat(80), 80)).isEqualTo("x".repeat(80));
        assertThat(Printable.cut("x".repeat(81), 80)).isEqualTo("x".repeat(80) + "...");
        assertThat(Printable.cut("a\nb" + "y".repeat(100), 5)).isEqualTo("a\\u000abyy...");
    }
}
