package io.berth.launcher.cli;

import java.util.Arrays;

/** Help text with a style per character: plain, or with ANSI colours on a terminal. */
final class Styled {
    /** The styles of help on a terminal: command names bold, options yellow, their values' labels italic. */
    enum Style {
        NONE("", ""),
        COMMAND("\u001B[1m", "\u001B[21m\u001B[0m"),
        OPTION("\u001B[33m", "\u001B[39m\u001B[0m"),
        PARAMETER("\u001B[33m", "\u001B[39m\u001B[0m"),
        OPTION_PARAM("\u001B[3m", "\u001B[23m\u001B[0m");

        private final String on;
        private final String off;

        Style(String on, String off) {
            this.on = on;
            this.off = off;
        }
    }

    static final Styled EMPTY = new Styled("", new Style[0]);

    private final String plain;
    private final Style[] styles;

    private Styled(String plain, Style[] styles) {
        this.plain = plain;
        this.styles = styles;
    }

    static Styled of(String text) {
        return of(text, Style.NONE);
    }

    static Styled of(String text, Style style) {
        Style[] s = new Style[text.length()];
        Arrays.fill(s, style);
        return new Styled(text, s);
    }

    Styled concat(Styled other) {
        Style[] s = Arrays.copyOf(styles, styles.length + other.styles.length);
        System.arraycopy(other.styles, 0, s, styles.length, other.styles.length);
        return new Styled(plain + other.plain, s);
    }

    Styled concat(String text) {
        return concat(of(text));
    }

    Styled substring(int from, int to) {
        return new Styled(plain.substring(from, to), Arrays.copyOfRange(styles, from, to));
    }

    Styled substring(int from) {
        return substring(from, plain.length());
    }

    int length() {
        return plain.length();
    }

    String plain() {
        return plain;
    }

    Style style(int i) {
        return styles[i];
    }

    /** The lines, split at line breaks (a last empty line included). */
    Styled[] lines() {
        String[] parts = plain.split("\r\n|\r|\n", -1);
        Styled[] out = new Styled[parts.length];
        int at = 0;
        for (int i = 0; i < parts.length; i++) {
            out[i] = substring(at, at + parts[i].length());
            at += parts[i].length();
            if (at < plain.length()) {
                at += plain.startsWith("\r\n", at) ? 2 : 1;
            }
        }
        return out;
    }

    /** {@code text}, each character in its style: with ANSI escape codes when {@code colour}, else as it is. */
    static String render(CharSequence text, Style[] charStyles, boolean colour) {
        if (!colour) {
            return text.toString();
        }
        StringBuilder out = new StringBuilder();
        Style current = Style.NONE;
        for (int i = 0; i < text.length(); i++) {
            Style s = charStyles[i];
            if (s != current) {
                out.append(current.off).append(s.on);
                current = s;
            }
            out.append(text.charAt(i));
        }
        return out.append(current.off).toString();
    }

    Style[] styles() {
        return styles.clone();
    }
}
