package io.github.lora4j.data;

import java.nio.file.Path;
import java.util.Locale;

/** The file formats a {@link DatasetReader} reads. */
public enum FileFormat {
  /** JSON Lines, one object per line ({@code .jsonl}, {@code .jsonl.gz}). */
  JSONL,
  /** Comma-separated values with a header row, RFC 4180 quoting ({@code .csv}, {@code .csv.gz}). */
  CSV,
  /** Apache Parquet, as Hugging Face publishes datasets ({@code .parquet}). */
  PARQUET;

  /**
   * The format a file's name says, ignoring a trailing {@code .gz}.
   *
   * @throws IllegalArgumentException when the extension is none of the above
   */
  public static FileFormat of(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".gz")) {
      name = name.substring(0, name.length() - 3);
    }
    if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
      return JSONL;
    }
    if (name.endsWith(".csv")) {
      return CSV;
    }
    if (name.endsWith(".parquet")) {
      return PARQUET;
    }
    throw new IllegalArgumentException("cannot tell the format of " + file + " from its name: expected .jsonl, .csv or .parquet (optionally .gz); set it with format(...)");
  }
}
