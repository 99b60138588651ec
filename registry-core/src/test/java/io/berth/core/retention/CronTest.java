package io.berth.core.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronTest {
    @ParameterizedTest(name = "{0} after {1} -> {2}")
    @CsvSource(
            delimiter = '|',
            value = {
                "* * * * *        | 2026-03-01T10:15:30Z | 2026-03-01T10:16:00Z",
                "0 * * * *        | 2026-03-01T10:15:00Z | 2026-03-01T11:00:00Z",
                "30 2 * * *       | 2026-03-01T02:30:00Z | 2026-03-02T02:30:00Z",
                "@daily           | 2026-03-01T10:00:00Z | 2026-03-02T00:00:00Z",
                "@hourly          | 2026-03-01T10:00:00Z | 2026-03-01T11:00:00Z",
                "@weekly          | 2026-03-04T10:00:00Z | 2026-03-08T00:00:00Z",
                "@monthly         | 2026-03-04T10:00:00Z | 2026-04-01T00:00:00Z",
                "*/15 * * * *     | 2026-03-01T10:16:00Z | 2026-03-01T10:30:00Z",
                "0 9-17/4 * * *   | 2026-03-01T10:00:00Z | 2026-03-01T13:00:00Z",
                "0 3 * * MON-FRI  | 2026-03-06T04:00:00Z | 2026-03-09T03:00:00Z",
                "0 3 * * 7        | 2026-03-02T00:00:00Z | 2026-03-08T03:00:00Z",
                "0 0 1,15 * *     | 2026-03-02T00:00:00Z | 2026-03-15T00:00:00Z",
                "0 0 29 2 *       | 2026-03-01T00:00:00Z | 2028-02-29T00:00:00Z",
                "0 0 1 JAN *      | 2026-03-01T00:00:00Z | 2027-01-01T00:00:00Z",
                "0 0 13 * FRI     | 2026-03-01T00:00:00Z | 2026-03-06T00:00:00Z",
            })
    void firesAtTheNextMatchingMinuteInUtc(String expression, String after, String next) {
        assertEquals(
                Instant.parse(next).toEpochMilli(),
                Cron.parse(expression.trim()).nextAfter(Instant.parse(after).toEpochMilli()));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "* * * *          | expected 5 fields",
                "60 * * * *       | minute '60' is not a value from 0 to 59",
                "* 24 * * *       | hour '24'",
                "* * 0 * *        | day of month '0'",
                "* * * 13 *       | month '13'",
                "* * * * 8        | day of week '8'",
                "* * * * FUNDAY   | day of week 'FUNDAY'",
                "5-1 * * * *      | runs backwards",
                "*/0 * * * *      | minute '0'",
                "0 0 30 2 *       | never fires",
            })
    void mistakesSayWhichField(String expression, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cron.parse(expression.trim()));
        assertTrue(e.getMessage().contains(message.trim()), e.getMessage());
    }
}
