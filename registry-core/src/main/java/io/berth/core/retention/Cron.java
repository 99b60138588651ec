package io.berth.core.retention;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A classic five-field cron expression, evaluated in UTC: minute (0-59), hour (0-23), day of month
 * (1-31), month (1-12 or JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 are Sunday). Each field is
 * {@code *}, a value, a range {@code a-b}, a step {@code * /n} or {@code a-b/n}, or a comma-separated
 * list of those. As in Vixie cron, when both day fields are restricted a day matching either runs.
 * Also {@code @hourly}, {@code @daily} (= {@code @midnight}), {@code @weekly}, {@code @monthly},
 * {@code @yearly}.
 */
public final class Cron {
    private static final Map<String, String> MACROS = Map.of(
            "@hourly",
            "0 * * * *",
            "@daily",
            "0 0 * * *",
            "@midnight",
            "0 0 * * *",
            "@weekly",
            "0 0 * * 0",
            "@monthly",
            "0 0 1 * *",
            "@yearly",
            "0 0 1 1 *",
            "@annually",
            "0 0 1 1 *");
    private static final List<String> MONTHS =
            List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
    private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

    private final String text;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private Cron(String text, String[] f) {
        this.text = text;
        this.minutes = field("minute", f[0], 0, 59, List.of(), 0);
        this.hours = field("hour", f[1], 0, 23, List.of(), 0);
        this.daysOfMonth = field("day of month", f[2], 1, 31, List.of(), 0);
        this.months = field("month", f[3], 1, 12, MONTHS, 1);
        BitSet dow = field("day of week", f[4], 0, 7, DAYS, 0);
        if (dow.get(7)) {
            dow.set(0);
        }
        this.daysOfWeek = dow;
        this.domRestricted = !f[2].equals("*");
        this.dowRestricted = !f[4].equals("*");
    }

    /** Parses an expression or throws {@link IllegalArgumentException} saying which field is wrong. */
    public static Cron parse(String text) {
        String t = text.trim();
        String expanded = MACROS.getOrDefault(t.toLowerCase(Locale.ROOT), t);
        String[] f = expanded.split("\\s+");
        if (f.length != 5) {
            throw new IllegalArgumentException("expected 5 fields (minute hour day-of-month month day-of-week) or a "
                    + "macro such as @daily, got " + f.length);
        }
        Cron cron = new Cron(t, f);
        try {
            cron.nextAfter(System.currentTimeMillis());
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("it never fires (no such day)");
        }
        return cron;
    }

    private static BitSet field(String name, String spec, int min, int max, List<String> names, int nameBase) {
        BitSet bits = new BitSet(max + 1);
        for (String part : spec.split(",")) {
            int step = 1;
            String range = part;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                step = number(name, part.substring(slash + 1), 1, max, List.of(), 0);
                range = part.substring(0, slash);
            }
            int lo;
            int hi;
            if (range.equals("*")) {
                lo = min;
                hi = max;
            } else if (range.indexOf('-') > 0) {
                lo = number(name, range.substring(0, range.indexOf('-')), min, max, names, nameBase);
                hi = number(name, range.substring(range.indexOf('-') + 1), min, max, names, nameBase);
                if (hi < lo) {
                    throw new IllegalArgumentException(name + " range '" + range + "' runs backwards");
                }
            } else {
                lo = number(name, range, min, max, names, nameBase);
                hi = slash >= 0 ? max : lo;
            }
            for (int v = lo; v <= hi; v += step) {
                bits.set(v);
            }
        }
        return bits;
    }

    private static int number(String name, String s, int min, int max, List<String> names, int nameBase) {
        int i = names.indexOf(s.toUpperCase(Locale.ROOT));
        if (i >= 0) {
            return i + nameBase;
        }
        try {
            int v = Integer.parseInt(s);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " '" + s + "' is not a value from " + min + " to " + max
                + (names.isEmpty() ? "" : " or " + names.get(0) + "-" + names.get(names.size() - 1)));
    }

    /** The first time strictly after {@code afterMillis} (epoch millis) the expression fires. */
    public long nextAfter(long afterMillis) {
        ZonedDateTime t = ZonedDateTime.ofInstant(Instant.ofEpochMilli(afterMillis), ZoneOffset.UTC)
                .truncatedTo(ChronoUnit.MINUTES)
                .plusMinutes(1);
        ZonedDateTime limit = t.plusYears(5);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).withHour(0).withMinute(0).plusMonths(1);
                continue;
            }
            if (!dayMatches(t)) {
                t = t.withHour(0).withMinute(0).plusDays(1);
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.withMinute(0).plusHours(1);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            return t.toInstant().toEpochMilli();
        }
        throw new IllegalStateException("'" + text + "' never fires"); // e.g. 30 2 *: caught by tests of parse
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = daysOfMonth.get(t.getDayOfMonth());
        int dowValue =
                t.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : t.getDayOfWeek().getValue();
        boolean dow = daysOfWeek.get(dowValue);
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    @Override
    public String toString() {
        return text;
    }
}
