package dev.septa.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Instants as the CLI accepts them: {@code 2026-12-01T10:00:00Z}, with an offset, or a date (its start, UTC). */
final class CliTimes {
    private CliTimes() {}

    /** The instant, or null when {@code text} is none of the accepted forms. */
    static Instant parseInstant(String text) {
        if (text == null || text.length() > 64) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            // not an instant with an offset; try a date
        }
        try {
            return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
