package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QueryBatchTest {
    @Test
    void parsesQueriesAndSkipsBlankLines() throws Exception {
        var parsed = QueryBatch.parse("q.jsonl", new BufferedReader(new StringReader("""
                {"from":"shop/a","to":"shop/b","port":8443,"method":"POST","path":"/x"}

                {"to":"shop/b","from":"shop/a","port":80.0}
                """)));
        assertThat(parsed.errors()).isEmpty();
        assertThat(parsed.queries()).containsExactly(
                new QueryBatch.Line(1, new Query("shop/a", "shop/b", 8443, "POST", "/x")),
                new QueryBatch.Line(3, new Query("shop/a", "shop/b", 80, null, null)));
    }

    @Test
    void everyMalformedLineIsReportedWithItsNumber() throws Exception {
        var parsed = QueryBatch.parse("q.jsonl", new BufferedReader(new StringReader("""
                {"from":"shop/a","to":"shop/b","port":8443}
                {from:"shop/a","to":"shop/b","port":1}
                {"from":"shop/a","to":"shop/b","port":70000}
                {"from":"shop/a","to":"shop/b","port":"80"}
                {"from":"a","to":"shop/b","port":80}
                {"from":"shop/a","to":"shop/b","port":80,"verb":"GET"}
                {"from":"shop/a","to":"shop/b","port":80,"path":"x"}
                {"from":"shop/a","to":"shop/b","port":80} trailing
                [1,2]
                {"to":"shop/b","port":80}
                """)));
        assertThat(parsed.queries()).hasSize(1);
        String example = "; expected one object per line, such as {\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,"
                + "\"method\":\"POST\",\"path\":\"/x\"}";
        assertThat(parsed.errors()).extracting(QueryBatch.LineError::toString).containsExactly(
                "q.jsonl:2: not valid JSON at column 3 (near '{from')" + example,
                "q.jsonl:3: 'port' must be a whole number from 1 to 65535, got 70000",
                "q.jsonl:4: 'port' must be a number, not a string: write \"port\":80 instead of \"port\":\"80\"",
                "q.jsonl:5: 'from' must be \"namespace/name\", got \"a\"",
                "q.jsonl:6: unknown field 'verb' (a query has from, to, port, method, path)",
                "q.jsonl:7: 'path' must start with '/', got \"x\"",
                "q.jsonl:8: not valid JSON at column 44 (near 'ort\":80} trai')" + example,
                "q.jsonl:9: expected a JSON object {\"from\":..,\"to\":..,\"port\":..}, got [1,2]",
                "q.jsonl:10: missing 'from' (a workload as \"namespace/name\")");
    }

    @Test
    void duplicateFieldsUnterminatedLinesAndStringPortsSayWhatWouldBeRight() throws Exception {
        var parsed = QueryBatch.parse("q.jsonl", new BufferedReader(new StringReader("""
                \uFEFF{"from":"shop/a","to":"shop/b","port":1}
                {"from":"shop/a","from":"shop/c","to":"shop/b","port":1}
                {"from":"shop/a","to":"shop/b","port":1
                {"from":"shop/a","to":"shop/b","port":1,}
                {"from":"shop/a","to":"shop/b","port":true}
                {"from":"shop/a","to":"shop/b","port":8443,"method":"post"}
                """)));
        assertThat(parsed.queries()).extracting(QueryBatch.Line::number).containsExactly(1, 6);
        assertThat(parsed.errors()).extracting(QueryBatch.LineError::toString).containsExactly(
                "q.jsonl:2: 'from' is given twice; give each field once",
                "q.jsonl:3: not valid JSON: the line ends inside the object (a missing '}' or '\"'?); expected one object "
                        + "per line, such as {\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,\"method\":\"POST\",\"path\":\"/x\"}",
                "q.jsonl:4: not valid JSON at column 42 (near '\"port\":1,}')"
                        + "; expected one object per line, such as {\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,"
                        + "\"method\":\"POST\",\"path\":\"/x\"}",
                "q.jsonl:5: 'port' must be a number from 1 to 65535, got true");
        // A lower-case method is a different method (HTTP methods are case-sensitive): answered, with a warning.
        assertThat(parsed.warnings()).extracting(QueryBatch.LineError::toString).containsExactly(
                "q.jsonl:6: warning: method 'post' is not 'POST': methods are case-sensitive, and intents name them in upper case");
    }

    @Test
    void answerLineCarriesTheQueryThenTheDecision() {
        assertThat(QueryBatch.toJson(new Query("shop/a", "shop/b", 8443, "POST", "/x?a=1&b=<2>"),
                new Decision(Decision.Verdict.ALLOW, "shop/i", Optional.of("shop/dry"))))
                .isEqualTo("{\"from\":\"shop/a\",\"to\":\"shop/b\",\"port\":8443,\"method\":\"POST\",\"path\":\"/x?a=1&b=<2>\","
                        + "\"decision\":\"ALLOW\",\"by\":\"shop/i\",\"wouldDenyBy\":\"shop/dry\"}");
        assertThat(QueryBatch.toJson(Query.of("shop/a", "shop/b", 1), new Decision(Decision.Verdict.DENY, "default", null)))
                .isEqualTo("{\"from\":\"shop/a\",\"to\":\"shop/b\",\"port\":1,\"decision\":\"DENY\",\"by\":\"default\"}");
    }

    @Test
    void nonAsciiIsEscapedSoThatAnyConsoleShowsTheSameString() {
        assertThat(QueryBatch.toJson(new Query("shop/a", "shop/b", 80, "GET", "/caf\u00e9/\uD83D\uDE00"),
                new Decision(Decision.Verdict.DENY, "default", null)))
                .isEqualTo("{\"from\":\"shop/a\",\"to\":\"shop/b\",\"port\":80,\"method\":\"GET\","
                        + "\"path\":\"/caf\\u00e9/\\ud83d\\ude00\",\"decision\":\"DENY\",\"by\":\"default\"}");
        Query back = QueryBatch.parseLine("{\"from\":\"shop/a\",\"to\":\"shop/b\",\"port\":80,\"path\":\"/caf\\u00e9\"}");
        assertThat(back.path()).isEqualTo("/caf\u00e9");
    }

    @Test
    void methodMustBeAToken() {
        assertThatThrownBy(() -> QueryBatch.parseLine("{\"from\":\"a/b\",\"to\":\"a/c\",\"port\":1,\"method\":\"GE T\"}"))
                .hasMessageContaining("'method' must be an HTTP method");
    }
}
