package io.github.lora4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a dataset file (JSON Lines, CSV or Parquet), or a directory of them (Hugging Face's shards,
 * read in name order), as {@link Example}s, streaming, with a deterministic train/validation {@link
 * Split}. Records follow TRL's shapes ({@code text}, {@code
 * prompt}/{@code completion}, {@code messages}); a record that does not fit is an {@link
 * InvalidRecordException} naming file, line and field, or is skipped and counted with {@link
 * InvalidRecordPolicy#SKIP_INVALID}.
 *
 * <pre>{@code
 * DatasetReader reader = DatasetReader.builder(Path.of("train.jsonl")).validationFraction(0.05).seed(42).build();
 * List<Example> train = reader.read(Split.TRAIN).examples();
 * }</pre>
 */
public final class DatasetReader {

  private static final Logger LOG = LoggerFactory.getLogger(DatasetReader.class);

  private final Path file;
  private final List<Path> files;
  private final FileFormat format;
  private final RecordDecoder decoder;
  private final InvalidRecordPolicy policy;
  private final double validationFraction;
  private final long seed;
  private volatile ReadReport lastReport;

  private DatasetReader(Builder b, List<Path> files) {
    this.file = b.file;
    this.files = files;
    this.format = b.format;
    this.decoder = new RecordDecoder(b.recordFormat, b.textField);
    this.policy = b.policy;
    this.validationFraction = b.validationFraction;
    this.seed = b.seed;
  }

  /**
   * A reader of {@code file}, its format taken from its extension unless set; or of every file
   * with a dataset extension in the directory {@code file}, in name order.
   */
  public static Builder builder(Path file) {
    return new Builder(file);
  }

  /** The file or directory given. */
  public Path file() {
    return file;
  }

  /** The files read, in order: the file, or the dataset files of the directory. */
  public List<Path> files() {
    return files;
  }

  /**
   * A lazy pass over one side of the split, in file order. Close the stream (try-with-resources)
   * to close the file; the pass's counts are then in {@link #lastReport()}. Under the strict policy
   * an invalid record throws {@link InvalidRecordException} from the stream's terminal operation.
   */
  public Stream<Example> examples(Split split) {
    return examples(split, report -> lastReport = report);
  }

  private Stream<Example> examples(Split split, java.util.function.Consumer<ReadReport> onClose) {
    Objects.requireNonNull(split, "split");
    Concatenation records = new Concatenation();
    InvalidRecords invalid = new InvalidRecords(policy, file.toString());
    long[] counts = new long[2]; // records seen on this side, examples made
    Spliterator<Example> spliterator =
        new Spliterators.AbstractSpliterator<>(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL) {
          @Override
          public boolean tryAdvance(java.util.function.Consumer<? super Example> action) {
            while (records.hasNext()) {
              RawRecord r = records.next();
              if (!split.contains(records.splitSeed(), validationFraction, r.origin().line())) {
                continue;
              }
              if (r.isBlank()) {
                invalid.ignore(r.origin(), "blank line");
                continue;
              }
              counts[0]++;
              Example e;
              try {
                if (r.error() != null) {
                  throw r.error();
                }
                e = decoder.decode(r.fields(), r.origin());
              } catch (InvalidRecordException ex) {
                invalid.reject(ex);
                continue;
              }
              counts[1]++;
              action.accept(e);
              return true;
            }
            return false;
          }
        };
    return StreamSupport.stream(spliterator, false)
        .onClose(
            () -> {
              try {
                records.close();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              invalid.logSummary();
              onClose.accept(new ReadReport(file.toString(), split, counts[0], counts[1], invalid.counts()));
            });
  }

  /** Reads one side of the split into memory. Passes may run concurrently. */
  public ReadResult read(Split split) {
    ReadReport[] report = new ReadReport[1];
    List<Example> examples;
    try (Stream<Example> s = examples(split, r -> lastReport = report[0] = r)) {
      examples = s.toList();
    }
    return new ReadResult(examples, report[0]);
  }

  /**
   * The counts of the last pass whose stream was closed; null before the first. With concurrent
   * passes, use {@link #read}, whose result carries its own counts.
   */
  public ReadReport lastReport() {
    return lastReport;
  }

  /** The records of every file in turn, each file opened when the previous one is done. */
  private final class Concatenation extends RecordReader {
    private int next;
    private RecordReader current;
    private long splitSeed;

    @Override
    protected RawRecord read() throws IOException {
      while (true) {
        if (current == null) {
          if (next == files.size()) {
            return null;
          }
          Path f = files.get(next++);
          current = open(f);
          // Each file's split depends on its name, not its place in the directory, so that adding a
          // shard does not move the records of the others.
          splitSeed = files.size() == 1 ? seed : seed ^ SplitMix64.mix(f.getFileName().toString().hashCode());
        }
        if (current.hasNext()) {
          return current.next();
        }
        current.close();
        current = null;
      }
    }

    long splitSeed() {
      return splitSeed;
    }

    @Override
    public void close() throws IOException {
      if (current != null) {
        current.close();
      }
    }
  }

  private RecordReader open(Path f) {
    try {
      return switch (format != null ? format : FileFormat.of(f)) {
        case JSONL -> new JsonlReader(input(f), f.toString());
        case CSV -> new CsvReader(input(f), f.toString());
        case PARQUET -> new ParquetRecords(f);
      };
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + f + ": " + e.getMessage(), e);
    }
  }

  private static InputStream input(Path f) throws IOException {
    InputStream in = Files.newInputStream(f);
    return f.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : in;
  }

  /**
   * The examples of one pass and what the pass found.
   *
   * @param examples the examples in file order
   * @param report the counts, including what was skipped
   */
  public record ReadResult(List<Example> examples, ReadReport report) {
    public ReadResult {
      examples = List.copyOf(examples);
      Objects.requireNonNull(report, "report");
    }
  }

  /** Settings of a {@link DatasetReader}; each setter checks its argument. */
  public static final class Builder {
    private final Path file;
    private FileFormat format;
    private RecordFormat recordFormat = RecordFormat.AUTO;
    private String textField = "text";
    private InvalidRecordPolicy policy = InvalidRecordPolicy.STRICT;
    private double validationFraction = 0;
    private long seed = 42;

    private Builder(Path file) {
      this.file = Objects.requireNonNull(file, "file");
    }

    /** The file format; by default the file's extension says. */
    public Builder format(FileFormat format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /** The record shape; {@link RecordFormat#AUTO} (the default) decides per record. */
    public Builder recordFormat(RecordFormat recordFormat) {
      this.recordFormat = Objects.requireNonNull(recordFormat, "recordFormat");
      return this;
    }

    /** The field of plain-text records, TRL's {@code dataset_text_field}; {@code "text"} by default. */
    public Builder textField(String textField) {
      Objects.requireNonNull(textField, "textField");
      if (textField.isBlank()) {
        throw new IllegalArgumentException("textField must not be blank");
      }
      this.textField = textField;
      return this;
    }

    /** What to do with an invalid record; {@link InvalidRecordPolicy#STRICT} by default. */
    public Builder invalidRecords(InvalidRecordPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "invalidRecords");
      return this;
    }

    /** Shorthand for {@code invalidRecords(SKIP_INVALID)}. */
    public Builder skipInvalid() {
      return invalidRecords(InvalidRecordPolicy.SKIP_INVALID);
    }

    /** The expected share of records held out for validation, in [0, 1); 0 by default. */
    public Builder validationFraction(double validationFraction) {
      if (!(validationFraction >= 0 && validationFraction < 1)) {
        throw new IllegalArgumentException("validationFraction must be in [0, 1): " + validationFraction);
      }
      this.validationFraction = validationFraction;
      return this;
    }

    /** The seed of the train/validation split; 42 by default. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * @throws IllegalArgumentException when a file's format cannot be told from its name, or a
     *     directory holds no dataset file
     * @throws UncheckedIOException when a directory cannot be listed
     */
    public DatasetReader build() {
      if (!Files.isDirectory(file)) {
        if (format == null) {
          FileFormat.of(file); // fails now, naming the file, rather than on the first read
        }
        return new DatasetReader(this, List.of(file));
      }
      List<Path> files = new ArrayList<>();
      List<String> ignored = new ArrayList<>();
      try (Stream<Path> listing = Files.list(file)) {
        for (Path f : listing.filter(Files::isRegularFile).sorted().toList()) {
          boolean dataset;
          try {
            dataset = format == null ? FileFormat.of(f) != null : FileFormat.of(f) == format;
          } catch (IllegalArgumentException e) {
            dataset = false;
          }
          if (dataset) {
            files.add(f);
          } else {
            ignored.add(f.getFileName().toString());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + file + ": " + e.getMessage(), e);
      }
      if (files.isEmpty()) {
        throw new IllegalArgumentException("no .jsonl, .csv or .parquet file in " + file + (ignored.isEmpty() ? "" : " (it has " + ignored + ")"));
      }
      if (!ignored.isEmpty()) {
        LOG.info("{}: reading {} dataset file(s), ignoring {} other(s): {}", file, files.size(), ignored.size(), ignored);
      }
      return new DatasetReader(this, List.copyOf(files));
    }
  }
}
