package dev.septa.controlplane.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.json.Json;
import java.io.StringReader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** apply(from, diff(from, to)) == to, with Parsson's RFC 6902 implementation doing the applying. */
class JsonPatchDiffTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{}|{}|0",
            "{\"a\":1}|{\"a\":2}|1",
            "{\"a\":1,\"b\":2}|{\"b\":2,\"c\":3}|2",
            "{\"x/y\":1,\"m~n\":{}}|{\"x/y\":2,\"m~n\":{\"k\":true}}|2",
            "{\"l\":[1,2,3]}|{\"l\":[0,9,1,2,3]}|2",
            "{\"l\":[1,2,3]}|{\"l\":[1,2,3,4]}|1",
            "{\"l\":[1,2,3]}|{\"l\":[1,5,3]}|1",
            "{\"l\":[1,2,3]}|{\"l\":[3]}|1",
            "{\"l\":[{\"n\":1,\"e\":[]}]}|{\"l\":[{\"n\":1,\"e\":[{\"k\":1}]}]}|1",
            "{\"l\":[1]}|{\"l\":{\"now\":\"object\"}}|1",
            "[1,2]|[1,2,[3]]|1",
    })
    void thePatchTurnsOneIntoTheOther(String from, String to, int operations) throws Exception {
        JsonNode patch = JsonPatchDiff.diff(JSON.readTree(from), JSON.readTree(to));
        var applied = Json.createPatch(Json.createReader(new StringReader(patch.toString())).readArray())
                .apply(Json.createReader(new StringReader(from)).read());
        assertThat(JSON.readTree(applied.toString())).isEqualTo(JSON.readTree(to));
        assertThat(patch).hasSize(operations);
    }
}
