package io.github.lora4j.data;

import java.util.Objects;

/**
 * Where a record came from, for error messages and skip logs: a file (or stream) name and the
 * 1-based line of a JSONL or CSV record, or the 1-based row of a Parquet record.
 *
 * @param source the file name as the user gave it, or a name for an in-memory source
 * @param line the 1-based line (JSONL, CSV: the line the record starts on) or row (Parquet); 0 when
 *     unknown
 */
public record Origin(String source, long line) {

  /** The origin of examples made in code rather than read from a file. */
  public static final Origin IN_MEMORY = new Origin("<in-memory>", 0);

  public Origin {
    Objects.requireNonNull(source, "source");
    if (line < 0) {
      throw new IllegalArgumentException("line must be >= 0: " + line);
    }
  }

  /** {@code source:line}, or just the source when the line is unknown. */
  @Override
  public String toString() {
    return line > 0 ? source + ":" + line : source;
  }
}
