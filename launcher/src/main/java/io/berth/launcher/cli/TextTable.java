package io.berth.launcher.cli;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Columns of help text, laid out as picocli 4.7 laid out Berth's help (so that it reads the same
 * byte for byte): a value too wide for its column is cut ({@link Overflow#TRUNCATE}), runs on into
 * the next columns ({@link Overflow#SPAN}) or wraps onto the next rows ({@link Overflow#WRAP}),
 * breaking lines where {@link BreakIterator} allows — but never after a hyphen — and indenting
 * wrapped lines by {@link #indentWrappedLines} more.
 */
final class TextTable {
    enum Overflow {
        TRUNCATE,
        SPAN,
        WRAP
    }

    /** A column: its width, the spaces before its text, and what a value too wide does. */
    record Column(int width, int indent, Overflow overflow) {}

    /** The text of one cell, at most its column's width. */
    private static final class Cell {
        final int max;
        final StringBuilder text = new StringBuilder();
        final List<Styled.Style> styles = new ArrayList<>();

        Cell(int max) {
            this.max = max;
        }

        int length() {
            return text.length();
        }

        /** Writes {@code value} at {@code offset}, padding with spaces; returns the characters written. */
        int write(Styled value, int offset) {
            int n = Math.max(0, Math.min(value.length(), max - offset));
            while (text.length() < offset) {
                text.append(' ');
                styles.add(Styled.Style.NONE);
            }
            for (int i = 0; i < n; i++) {
                text.append(value.plain().charAt(i));
                styles.add(value.style(i));
            }
            return n;
        }
    }

    private final Column[] columns;
    private final int[] indents;
    private final List<Cell> cells = new ArrayList<>();
    /** Extra indent of a value's wrapped lines. */
    int indentWrappedLines = 2;

    TextTable(Column... columns) {
        this.columns = columns.clone();
        this.indents = Arrays.stream(columns).mapToInt(Column::indent).toArray();
    }

    /** One column of {@code width}, wrapping. */
    static TextTable singleColumn(int width) {
        return new TextTable(new Column(width, 0, Overflow.WRAP));
    }

    private int rows() {
        return cells.size() / columns.length;
    }

    private Cell cell(int row, int col) {
        return cells.get(row * columns.length + col);
    }

    private void addEmptyRow() {
        for (Column c : columns) {
            cells.add(new Cell(c.width()));
        }
    }

    /** A row of plain values, each split into lines that go into rows of their own. */
    void addRow(String... values) {
        Styled[] styled = new Styled[values.length];
        for (int i = 0; i < values.length; i++) {
            styled[i] = Styled.of(values[i]);
        }
        addRowLines(styled);
    }

    /** A row of values, each split into lines that go into rows of their own. */
    void addRowLines(Styled... values) {
        Styled[][] lines = new Styled[values.length][];
        int rows = 0;
        for (int i = 0; i < values.length; i++) {
            lines[i] = values[i] == null ? new Styled[] {Styled.EMPTY} : values[i].lines();
            rows = Math.max(rows, lines[i].length);
        }
        for (int r = 0; r < rows; r++) {
            Styled[] row = new Styled[values.length];
            for (int i = 0; i < values.length; i++) {
                row[i] = r < lines[i].length ? lines[i][r] : Styled.EMPTY;
            }
            addRow(row);
        }
    }

    /** A new row holding {@code values}; a value that spans or wraps pushes the next onto a new row. */
    void addRow(Styled... values) {
        addEmptyRow();
        // an option with a short name only ("-x=FILE") starts at the separator, not a space further
        boolean unindent =
                columns.length > 3 && values.length > 2 && values[2].plain().equals("=");
        if (unindent) {
            indents[3] = 0;
        }
        for (int col = 0; col < values.length; col++) {
            int row = rows() - 1;
            int[] at = put(row, col, values[col]);
            if ((at[0] != row || at[1] != col) && col != values.length - 1) {
                addEmptyRow();
            }
        }
        if (unindent) {
            indents[3] = columns[3].indent();
        }
    }

    /** Writes {@code value} at row and column; returns the row and column written last. */
    private int[] put(int row, int col, Styled value) {
        if (value.length() == 0) {
            return new int[] {row, col};
        }
        Column column = columns[col];
        int indent = indents[col];
        switch (column.overflow()) {
            case TRUNCATE -> {
                cell(row, col).write(value, indent);
                return new int[] {row, col};
            }
            case SPAN -> {
                int start = col;
                do {
                    boolean last = col == columns.length - 1;
                    int written = last
                            ? writeWords(value, cell(row, col), indent)
                            : cell(row, col).write(value, indent);
                    value = value.substring(written);
                    indent = 0;
                    if (value.length() > 0) {
                        col++;
                    }
                    if (value.length() > 0 && col >= columns.length) {
                        addEmptyRow();
                        row++;
                        col = start;
                        indent = indents[start] + indentWrappedLines;
                    }
                } while (value.length() > 0);
                return new int[] {row, col};
            }
            default -> {
                do {
                    int written = writeWords(value, cell(row, col), indent);
                    value = value.substring(written);
                    indent = indents[col] + indentWrappedLines;
                    if (value.length() > 0) {
                        row++;
                        addEmptyRow();
                    }
                } while (value.length() > 0);
                return new int[] {row, col};
            }
        }
    }

    /** Writes as many whole words of {@code text} as fit (a word longer than the cell: what fits of it). */
    private static int writeWords(Styled text, Cell cell, int offset) {
        BreakIterator words = BreakIterator.getLineInstance();
        // a hyphen is no place to break: --tls-cert, team-a/**
        words.setText(text.plain().replace('-', '\u00ff'));
        int written = 0;
        for (int start = words.first(), end = words.next();
                end != BreakIterator.DONE;
                start = end, end = words.next()) {
            if (cell.max < offset + written + (end - start)) {
                break;
            }
            written += cell.write(text.substring(start, end), offset + written);
        }
        if (written == 0 && text.length() + offset > cell.max) {
            written = cell.write(text, offset);
        }
        return written;
    }

    /** The rows, each padded to the columns' widths, trailing spaces cut. */
    String render(boolean colour) {
        StringBuilder out = new StringBuilder();
        StringBuilder row = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            Cell c = cells.get(i);
            row.append(Styled.render(c.text, c.styles.toArray(Styled.Style[]::new), colour));
            row.append(" ".repeat(Math.max(0, columns[i % columns.length].width() - c.length())));
            if (i % columns.length == columns.length - 1) {
                int end = row.length();
                while (end > 0 && row.charAt(end - 1) == ' ') {
                    end--;
                }
                out.append(row, 0, end).append('\n');
                row.setLength(0);
            }
        }
        return out.toString();
    }
}
