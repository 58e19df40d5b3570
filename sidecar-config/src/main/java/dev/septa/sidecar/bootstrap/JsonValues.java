package dev.septa.sidecar.bootstrap;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import java.util.Map;

/** Plain maps and lists to {@code google.protobuf.Struct} and JSON text, keeping insertion order. */
final class JsonValues {
    private JsonValues() {
    }

    static Struct struct(Map<String, ?> map) {
        Struct.Builder builder = Struct.newBuilder();
        map.forEach((key, value) -> builder.putFields(key, value(value)));
        return builder.build();
    }

    static Value value(Object object) {
        return switch (object) {
            case null -> Value.newBuilder().setNullValue(com.google.protobuf.NullValue.NULL_VALUE).build();
            case String text -> Value.newBuilder().setStringValue(text).build();
            case Boolean flag -> Value.newBuilder().setBoolValue(flag).build();
            case Number number -> Value.newBuilder().setNumberValue(number.doubleValue()).build();
            case Map<?, ?> map -> {
                Struct.Builder builder = Struct.newBuilder();
                map.forEach((key, value) -> builder.putFields(String.valueOf(key), value(value)));
                yield Value.newBuilder().setStructValue(builder).build();
            }
            case List<?> list -> {
                ListValue.Builder builder = ListValue.newBuilder();
                list.forEach(item -> builder.addValues(value(item)));
                yield Value.newBuilder().setListValue(builder).build();
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + object.getClass().getName());
        };
    }

    static String json(Map<String, ?> map) {
        try {
            return JsonFormat.printer().print(struct(map)) + "\n";
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
