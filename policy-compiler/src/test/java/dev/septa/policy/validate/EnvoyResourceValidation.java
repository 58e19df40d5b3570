package dev.septa.policy.validate;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.septa.policy.compile.ProxyJson;
import io.envoyproxy.pgv.ReflectiveValidatorIndex;
import io.envoyproxy.pgv.ValidationException;
import io.envoyproxy.pgv.Validator;
import io.envoyproxy.pgv.ValidatorIndex;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a resource against Envoy's own protoc-gen-validate rules, using validators generated at build time from
 * the .proto files in the api jar (see policy-compiler/pom.xml). Two gaps of PGV are closed here: it never looks
 * inside {@code google.protobuf.Any}, and types whose proto has no rules get no validator, which stops the
 * descent. So every message of the tree is visited: its generated validator (if any) runs, and each {@code Any}
 * is unpacked by type URL; an {@code Any} of a type Septa does not know fails.
 * Reuse from other modules through the policy-compiler test-jar: {@code EnvoyResourceValidation.assertValid(msg)}.
 */
public final class EnvoyResourceValidation {
    private static final ValidatorIndex INDEX = new ReflectiveValidatorIndex(ValidatorIndex.ALWAYS_VALID);
    private static final Map<String, Message> ANY_TYPES = new HashMap<>();

    static {
        for (Message m : ProxyJson.ANY_TYPES) {
            ANY_TYPES.put("type.googleapis.com/" + m.getDescriptorForType().getFullName(), m);
        }
    }

    private EnvoyResourceValidation() { }

    /** Throws {@link AssertionError} naming the path, field and reason of the first violation. */
    public static void assertValid(Message message) {
        visit(message, message.getDescriptorForType().getName());
    }

    public static void assertAllValid(List<? extends Message> messages) {
        messages.forEach(EnvoyResourceValidation::assertValid);
    }

    private static void visit(Message message, String path) {
        if (message instanceof Any any) {
            Message type = ANY_TYPES.get(any.getTypeUrl());
            if (type == null) {
                throw new AssertionError(path + ": Any of unknown type " + any.getTypeUrl());
            }
            try {
                visit(type.getParserForType().parseFrom(any.getValue()), path + "<" + type.getDescriptorForType().getName() + ">");
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(path + ": Any does not parse as " + any.getTypeUrl(), e);
            }
            return;
        }
        try {
            Validator<Message> v = INDEX.validatorFor(message.getClass());
            v.assertValid(message);
        } catch (ValidationException e) {
            throw new AssertionError(path + ": " + e.getField() + ": " + e.getReason() + " (value: " + e.getValue() + ")");
        }
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (f.isRepeated()) {
                int i = 0;
                for (Object item : (List<?>) e.getValue()) {
                    visit((Message) item, path + "." + f.getName() + "[" + i++ + "]");
                }
            } else {
                visit((Message) e.getValue(), path + "." + f.getName());
            }
        }
    }
}
