package dev.septa.policy.emit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The {@code :method} rule is emitted in a form the gRPC C-core 1.51 accepts (it NACKs {@code string_match}, known
 * only from 1.56): {@code safe_regex_match} of the literal method, matching that method and nothing else.
 */
class MethodMatcherTest {
    @Test
    void methodsBecomeLiteralFullMatchRegexes() {
        for (String method : List.of("POST", "GET", "M-SEARCH", "A.B", "X*")) {
            Pattern pattern = Pattern.compile(RbacConfigurer.literalRegex(method));
            assertThat(pattern.matcher(method).matches()).as(method).isTrue();
            assertThat(pattern.matcher(method + "X").matches()).as(method + "X").isFalse();
            assertThat(pattern.matcher("x" + method).matches()).isFalse();
        }
        assertThat(RbacConfigurer.literalRegex("POST")).isEqualTo("POST");
        assertThat(RbacConfigurer.literalRegex("A.B")).isEqualTo("A\\.B");
        assertThat(Pattern.compile(RbacConfigurer.literalRegex("A.B")).matcher("AxB").matches()).isFalse();
    }
}
