package io.github.lora4j.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tokenized examples ready to batch: the input of the trainer. Each epoch's batches are a pure
 * function of the examples, the config and the epoch number, so a run resumed at (epoch, batch)
 * sees exactly the batches it would have seen.
 *
 * <p>Without packing, a row is one example, right-padded to the longest row of its batch (pad
 * labels {@value TokenBatch#IGNORE_INDEX}, segment 0). With packing, examples are first put into
 * rows of at most {@code maxSequenceLength} tokens by best-fit decreasing, as TRL's {@code bfd}
 * strategy does; inside a row each example has its own positions from 0 and its own segment, so no
 * example attends to another, and the first token of each example has no label, so no example is
 * trained to predict the next one's start. Rows are packed once; every epoch shuffles the rows.
 *
 * <pre>{@code
 * SftDataset data = SftDataset.encode(reader.read(Split.TRAIN), tokenizer, config);
 * System.out.print(data.statistics().render());
 * for (TokenBatch batch : data.epoch(0)) { ... }
 * }</pre>
 */
public final class SftDataset {

  private static final Logger LOG = LoggerFactory.getLogger(SftDataset.class);

  private final SftConfig config;
  private final List<TokenizedExample> examples;
  private final List<Row> rows;
  private final int padTokenId;
  private final DatasetStatistics statistics;

  private SftDataset(SftConfig config, List<TokenizedExample> examples, int padTokenId, long skipped, Map<String, Long> skippedByReason) {
    this.config = config;
    this.examples = List.copyOf(examples);
    this.padTokenId = padTokenId;
    this.rows = config.packing() ? pack(this.examples, config.maxSequenceLength()) : single(this.examples);
    this.statistics = statistics(this.examples, config.maxSequenceLength(), skipped, skippedByReason);
    if (statistics.truncated() > 0) {
      LOG.warn(
          "{} of {} examples are longer than maxSequenceLength {} and were truncated ({} tokens cut)",
          statistics.truncated(), statistics.examples(), config.maxSequenceLength(), statistics.truncatedTokens());
    }
  }

  /**
   * Encodes {@code examples} with {@code tokenizer}. Examples that cannot be trained on follow
   * {@code config.invalidRecords()}: the first stops with an {@link InvalidRecordException}, or all
   * are skipped and counted in the statistics.
   */
  public static SftDataset encode(List<? extends Example> examples, Tokenizer tokenizer, SftConfig config) {
    return encode(examples, tokenizer, config, 0, Map.of());
  }

  /** Encodes what a {@link DatasetReader} read, keeping its skip counts in the statistics. */
  public static SftDataset encode(DatasetReader.ReadResult read, Tokenizer tokenizer, SftConfig config) {
    return encode(read.examples(), tokenizer, config, read.report().skippedRecords(), read.report().skipped());
  }

  private static SftDataset encode(List<? extends Example> examples, Tokenizer tokenizer, SftConfig config, long skipped, Map<String, Long> skippedByReason) {
    SftEncoder encoder = new SftEncoder(tokenizer, config);
    InvalidRecords invalid = new InvalidRecords(config.invalidRecords(), "encoding");
    List<TokenizedExample> out = new ArrayList<>(examples.size());
    for (Example e : examples) {
      try {
        out.add(encoder.encode(e));
      } catch (InvalidRecordException ex) {
        invalid.reject(ex);
      }
    }
    invalid.logSummary();
    Map<String, Long> reasons = new HashMap<>(skippedByReason);
    invalid.counts().forEach((k, v) -> reasons.merge(k, v, Long::sum));
    return new SftDataset(config, out, tokenizer.padTokenIdOrDefault(), skipped + invalid.total(), reasons);
  }

  /** A dataset of examples tokenized elsewhere. */
  public static SftDataset of(List<TokenizedExample> examples, SftConfig config, int padTokenId) {
    for (TokenizedExample e : examples) {
      if (e.length() > config.maxSequenceLength()) {
        throw new IllegalArgumentException(e.origin() + ": " + e.length() + " tokens, more than maxSequenceLength " + config.maxSequenceLength());
      }
    }
    return new SftDataset(config, examples, padTokenId, 0, Map.of());
  }

  public SftConfig config() {
    return config;
  }

  /** The tokenized examples, in the order given. */
  public List<TokenizedExample> examples() {
    return examples;
  }

  public DatasetStatistics statistics() {
    return statistics;
  }

  /** The rows: examples, or packed rows of several examples. */
  public int rows() {
    return rows.size();
  }

  /** The number of batches in every epoch (the last may be smaller). */
  public int batchesPerEpoch() {
    return (rows.size() + config.batchSize() - 1) / config.batchSize();
  }

  /** All batches of {@code epoch} (0-based), in order. */
  public List<TokenBatch> epoch(int epoch) {
    int[] order = order(epoch);
    List<TokenBatch> batches = new ArrayList<>(batchesPerEpoch());
    for (int b = 0; b < batchesPerEpoch(); b++) {
      batches.add(batch(order, b));
    }
    return batches;
  }

  /** Batch {@code index} of {@code epoch}, for resuming mid-epoch without building the others. */
  public TokenBatch batch(int epoch, int index) {
    Objects.checkIndex(index, batchesPerEpoch());
    return batch(order(epoch), index);
  }

  /** The order of the rows in {@code epoch}: a shuffle seeded by (seed, epoch), or file order. */
  int[] order(int epoch) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0: " + epoch);
    }
    return config.shuffle() ? SplitMix64.of(config.seed(), epoch).permutation(rows.size()) : IntStream.range(0, rows.size()).toArray();
  }

  private TokenBatch batch(int[] order, int index) {
    int from = index * config.batchSize();
    int to = Math.min(order.length, from + config.batchSize());
    int longest = 0;
    for (int i = from; i < to; i++) {
      longest = Math.max(longest, rows.get(order[i]).ids.length);
    }
    int multiple = config.padToMultipleOf();
    int seq = (longest + multiple - 1) / multiple * multiple;
    int n = to - from;
    int[] ids = new int[n * seq];
    int[] labels = new int[n * seq];
    int[] segments = new int[n * seq];
    Arrays.fill(ids, padTokenId);
    Arrays.fill(labels, TokenBatch.IGNORE_INDEX);
    for (int r = 0; r < n; r++) {
      Row row = rows.get(order[from + r]);
      System.arraycopy(row.ids, 0, ids, r * seq, row.ids.length);
      System.arraycopy(row.labels, 0, labels, r * seq, row.ids.length);
      System.arraycopy(row.segments, 0, segments, r * seq, row.ids.length);
    }
    return config.packing() ? TokenBatch.packed(n, seq, ids, labels, segments) : TokenBatch.padded(n, seq, ids, labels, segments);
  }

  /** A row of one or more whole examples; segments number them 1, 2, ... */
  private record Row(int[] ids, int[] labels, int[] segments) {}

  private static List<Row> single(List<TokenizedExample> examples) {
    List<Row> rows = new ArrayList<>(examples.size());
    for (TokenizedExample e : examples) {
      int[] ones = new int[e.length()];
      Arrays.fill(ones, 1);
      rows.add(new Row(e.inputIds(), e.labels(), ones));
    }
    return rows;
  }

  /**
   * Best-fit decreasing: longest example first, each into the row whose free space fits it most
   * tightly, ties to the row opened first. Deterministic, and within a few percent of the fewest
   * rows possible.
   */
  static List<Row> pack(List<TokenizedExample> examples, int rowLength) {
    Integer[] byLength = IntStream.range(0, examples.size()).boxed().toArray(Integer[]::new);
    Arrays.sort(byLength, Comparator.comparingInt((Integer i) -> -examples.get(i).length()).thenComparingInt(i -> i));
    List<List<TokenizedExample>> bins = new ArrayList<>();
    TreeMap<Integer, ArrayDeque<Integer>> byFreeSpace = new TreeMap<>();
    int[] free = new int[examples.size()];
    for (int i : byLength) {
      TokenizedExample e = examples.get(i);
      var fit = byFreeSpace.ceilingEntry(e.length());
      int bin;
      if (fit == null) {
        bin = bins.size();
        bins.add(new ArrayList<>());
        free[bin] = rowLength;
      } else {
        bin = fit.getValue().pollFirst();
        if (fit.getValue().isEmpty()) {
          byFreeSpace.remove(fit.getKey());
        }
      }
      bins.get(bin).add(e);
      free[bin] -= e.length();
      if (free[bin] > 0) {
        byFreeSpace.computeIfAbsent(free[bin], k -> new ArrayDeque<>()).addLast(bin);
      }
    }
    List<Row> rows = new ArrayList<>(bins.size());
    for (List<TokenizedExample> bin : bins) {
      int length = bin.stream().mapToInt(TokenizedExample::length).sum();
      int[] ids = new int[length];
      int[] labels = new int[length];
      int[] segments = new int[length];
      int at = 0;
      for (int s = 0; s < bin.size(); s++) {
        TokenizedExample e = bin.get(s);
        System.arraycopy(e.inputIds(), 0, ids, at, e.length());
        System.arraycopy(e.labels(), 0, labels, at, e.length());
        // The token before this one belongs to another example: nothing may predict across.
        labels[at] = TokenBatch.IGNORE_INDEX;
        Arrays.fill(segments, at, at + e.length(), s + 1);
        at += e.length();
      }
      rows.add(new Row(ids, labels, segments));
    }
    return rows;
  }

  private static DatasetStatistics statistics(List<TokenizedExample> examples, int maxSequenceLength, long skipped, Map<String, Long> skippedByReason) {
    long tokens = 0;
    long loss = 0;
    long truncated = 0;
    long cut = 0;
    int[] lengths = new int[examples.size()];
    for (int i = 0; i < lengths.length; i++) {
      TokenizedExample e = examples.get(i);
      tokens += e.length();
      loss += e.lossTokens();
      if (e.truncated()) {
        truncated++;
        cut += e.untruncatedLength() - e.length();
      }
      lengths[i] = e.untruncatedLength();
    }
    int max = Arrays.stream(lengths).max().orElse(0);
    return new DatasetStatistics(examples.size(), skipped, skippedByReason, tokens, loss, truncated, cut, max, LengthHistogram.of(lengths, 20, maxSequenceLength));
  }
}
