package io.berth.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ByteRangeTest {
    static ByteRange satisfiable(String header, long size) {
        ByteRange r = ByteRange.parse(header, size).orElseThrow();
        assertTrue(r.satisfiable(), header);
        return r;
    }

    @Test
    void forms() {
        ByteRange r = satisfiable("bytes=500-1499", 2048);
        assertEquals(500, r.start());
        assertEquals(1000, r.length());
        assertEquals(2047, satisfiable("bytes=500-", 2048).end());
        assertEquals(1548, satisfiable("bytes=-500", 2048).start());
        assertEquals(0, satisfiable("bytes=-5000", 2048).start());
        assertEquals(2047, satisfiable("bytes=2000-5000", 2048).end());
        assertEquals(0, satisfiable(" bytes=0-0 ", 1).end());
    }

    @Test
    void unsatisfiable() {
        for (String h : new String[] {"bytes=500-0", "bytes=5000-10000", "bytes=2048-", "bytes=-0"}) {
            assertFalse(ByteRange.parse(h, 2048).orElseThrow().satisfiable(), h);
        }
        assertFalse(ByteRange.parse("bytes=0-", 0).orElseThrow().satisfiable());
    }

    @Test
    void ignoredForms() {
        for (String h : new String[] {
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=",
            "bytes=-",
            "bytes=1",
            "bytes=--5",
            "bytes=5--1",
            "bytes=+5-6",
            "bytes=-+5",
            "bytes=1 2-3",
            "bytes=99999999999999999999-"
        }) {
            assertEquals(Optional.empty(), ByteRange.parse(h, 2048), h);
        }
    }

    @Test
    void theUnitIsCaseInsensitive() {
        assertEquals(2, satisfiable("BYTES=2-3", 10).start());
        assertEquals(2, satisfiable("Bytes=2-3", 10).start());
    }
}
