package dev.septa.sidecar.inject;

import com.fasterxml.jackson.databind.ObjectMapper;

/** One Jackson mapper for the injector's deep copies (fabric8's builders share nested maps with their source). */
final class PodInjectorJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private PodInjectorJson() {
    }
}
