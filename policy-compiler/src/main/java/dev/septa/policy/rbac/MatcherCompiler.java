package dev.septa.policy.rbac;

import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Turns Envoy's Permission and Principal trees into predicates, once, so that evaluating many requests does not
 * walk protobuf messages. Every matcher kind it does not know is rejected here, with the path to it: a config
 * that cannot be evaluated faithfully must not be evaluated at all.
 */
final class MatcherCompiler {
    private MatcherCompiler() { }

    static RequestMatcher permission(Permission p, String where) {
        return switch (p.getRuleCase()) {
            case ANY -> RequestMatcher.ANY;
            case AND_RULES -> and(p.getAndRules().getRulesList().stream()
                    .map(r -> permission(r, where + ".and_rules")).toList());
            case OR_RULES -> or(p.getOrRules().getRulesList().stream()
                    .map(r -> permission(r, where + ".or_rules")).toList());
            case NOT_RULE -> not(permission(p.getNotRule(), where + ".not_rule"));
            case HEADER -> header(p.getHeader(), where + ".header");
            case URL_PATH -> urlPath(p.getUrlPath(), where + ".url_path");
            case DESTINATION_PORT -> {
                int port = p.getDestinationPort();
                yield request -> request.destinationPort() == port;
            }
            case DESTINATION_PORT_RANGE -> {
                // Int32Range is [start, end).
                int start = p.getDestinationPortRange().getStart();
                int end = p.getDestinationPortRange().getEnd();
                yield request -> request.destinationPort() >= start && request.destinationPort() < end;
            }
            case RULE_NOT_SET -> throw new UnsupportedRbacException(where, "permission with no rule set");
            default -> throw new UnsupportedRbacException(where, "permission '" + fieldName(p.getRuleCase()) + "'");
        };
    }

    static RequestMatcher principal(Principal p, String where) {
        return switch (p.getIdentifierCase()) {
            case ANY -> RequestMatcher.ANY;
            case AND_IDS -> and(p.getAndIds().getIdsList().stream()
                    .map(r -> principal(r, where + ".and_ids")).toList());
            case OR_IDS -> or(p.getOrIds().getIdsList().stream()
                    .map(r -> principal(r, where + ".or_ids")).toList());
            case NOT_ID -> not(principal(p.getNotId(), where + ".not_id"));
            case HEADER -> header(p.getHeader(), where + ".header");
            case URL_PATH -> urlPath(p.getUrlPath(), where + ".url_path");
            case AUTHENTICATED -> {
                // Without principal_name any authenticated peer matches; a plaintext peer never does.
                if (!p.getAuthenticated().hasPrincipalName()) {
                    yield request -> request.principal() != null;
                }
                Predicate<String> name = string(p.getAuthenticated().getPrincipalName(),
                        where + ".authenticated.principal_name");
                yield request -> request.principal() != null && name.test(request.principal());
            }
            case IDENTIFIER_NOT_SET -> throw new UnsupportedRbacException(where, "principal with no identifier set");
            default -> throw new UnsupportedRbacException(where,
                    "principal '" + fieldName(p.getIdentifierCase()) + "'");
        };
    }

    /**
     * Envoy's HeaderMatcher. A missing header fails every value matcher, inverted or not; only
     * {@code present_match} looks at absence (unless {@code treat_missing_header_as_empty}).
     */
    static RequestMatcher header(HeaderMatcher h, String where) {
        String name = h.getName().toLowerCase(Locale.ROOT);
        boolean invert = h.getInvertMatch();
        boolean missingAsEmpty = h.getTreatMissingHeaderAsEmpty();
        if (h.getHeaderMatchSpecifierCase() == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH) {
            boolean present = h.getPresentMatch();
            return request -> {
                boolean has = request.headers().containsKey(name) || missingAsEmpty;
                return (has == present) != invert;
            };
        }
        Predicate<String> value = switch (h.getHeaderMatchSpecifierCase()) {
            case EXACT_MATCH -> h.getExactMatch()::equals;
            case PREFIX_MATCH -> v -> v.startsWith(h.getPrefixMatch());
            case SUFFIX_MATCH -> v -> v.endsWith(h.getSuffixMatch());
            case CONTAINS_MATCH -> v -> v.contains(h.getContainsMatch());
            case STRING_MATCH -> string(h.getStringMatch(), where + ".string_match");
            case SAFE_REGEX_MATCH -> regex(h.getSafeRegexMatch().getRegex(), where + ".safe_regex_match");
            case RANGE_MATCH -> {
                long start = h.getRangeMatch().getStart();
                long end = h.getRangeMatch().getEnd();
                yield v -> {
                    try {
                        long n = Long.parseLong(v);
                        return n >= start && n < end;
                    } catch (NumberFormatException e) {
                        return false;
                    }
                };
            }
            // Envoy: no specifier means "header present".
            case HEADERMATCHSPECIFIER_NOT_SET -> v -> true;
            default -> throw new UnsupportedRbacException(where,
                    "header matcher '" + fieldName(h.getHeaderMatchSpecifierCase()) + "'");
        };
        return request -> {
            String v = request.headers().get(name);
            if (v == null) {
                if (!missingAsEmpty) {
                    return false;
                }
                v = "";
            }
            return value.test(v) != invert;
        };
    }

    static RequestMatcher urlPath(PathMatcher m, String where) {
        if (m.getRuleCase() != PathMatcher.RuleCase.PATH) {
            throw new UnsupportedRbacException(where, "path matcher '" + fieldName(m.getRuleCase()) + "'");
        }
        Predicate<String> path = string(m.getPath(), where + ".path");
        return request -> {
            String p = request.urlPath();
            return p != null && path.test(p);
        };
    }

    static Predicate<String> string(StringMatcher m, String where) {
        boolean ic = m.getIgnoreCase();
        return switch (m.getMatchPatternCase()) {
            case EXACT -> ic ? m.getExact()::equalsIgnoreCase : m.getExact()::equals;
            case PREFIX -> ic ? v -> v.regionMatches(true, 0, m.getPrefix(), 0, m.getPrefix().length())
                    : v -> v.startsWith(m.getPrefix());
            case SUFFIX -> {
                String s = m.getSuffix();
                yield ic ? v -> v.length() >= s.length() && v.regionMatches(true, v.length() - s.length(), s, 0, s.length())
                        : v -> v.endsWith(s);
            }
            case CONTAINS -> {
                String s = ic ? m.getContains().toLowerCase(Locale.ROOT) : m.getContains();
                yield ic ? v -> v.toLowerCase(Locale.ROOT).contains(s) : v -> v.contains(s);
            }
            // Envoy ignores ignore_case for regexes.
            case SAFE_REGEX -> regex(m.getSafeRegex().getRegex(), where + ".safe_regex");
            default -> throw new UnsupportedRbacException(where,
                    "string matcher '" + fieldName(m.getMatchPatternCase()) + "'");
        };
    }

    /** RE2 matches the whole value; java.util.regex agrees on the RE2 subset Envoy accepts. */
    private static Predicate<String> regex(String regex, String where) {
        try {
            Pattern pattern = Pattern.compile(regex);
            return v -> pattern.matcher(v).matches();
        } catch (PatternSyntaxException e) {
            throw new UnsupportedRbacException(where, "regex '" + regex + "': " + e.getDescription());
        }
    }

    private static RequestMatcher and(List<RequestMatcher> all) {
        RequestMatcher[] ms = all.toArray(RequestMatcher[]::new);
        return request -> {
            for (RequestMatcher m : ms) {
                if (!m.matches(request)) {
                    return false;
                }
            }
            return true;
        };
    }

    private static RequestMatcher or(List<RequestMatcher> any) {
        RequestMatcher[] ms = any.toArray(RequestMatcher[]::new);
        return request -> {
            for (RequestMatcher m : ms) {
                if (m.matches(request)) {
                    return true;
                }
            }
            return false;
        };
    }

    private static RequestMatcher not(RequestMatcher m) {
        return request -> !m.matches(request);
    }

    /** Java enum constants are FIELD_NAME; print the proto field name. */
    private static String fieldName(Enum<?> c) {
        return c.name().toLowerCase(Locale.ROOT);
    }
}
