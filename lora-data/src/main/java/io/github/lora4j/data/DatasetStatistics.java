package io.github.lora4j.data;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a user should know about a dataset before training on it.
 *
 * @param examples the examples kept for training
 * @param skipped the records skipped as invalid (when reading or encoding), blank lines excluded
 * @param skippedByReason the skipped records, and blank lines, by reason
 * @param tokens the tokens of the kept examples, after truncation
 * @param lossTokens the tokens that carry loss (the training targets)
 * @param truncated the examples cut to {@code maxSequenceLength}
 * @param truncatedTokens the tokens cut off
 * @param maxLength the longest example before truncation
 * @param lengths the histogram of example lengths before truncation, with {@code
 *     maxSequenceLength} as its cutoff
 */
public record DatasetStatistics(
    long examples,
    long skipped,
    Map<String, Long> skippedByReason,
    long tokens,
    long lossTokens,
    long truncated,
    long truncatedTokens,
    int maxLength,
    LengthHistogram lengths) {

  public DatasetStatistics {
    skippedByReason = Map.copyOf(skippedByReason);
    Objects.requireNonNull(lengths, "lengths");
  }

  /** The mean example length after truncation. */
  public double meanLength() {
    return examples == 0 ? 0 : (double) tokens / examples;
  }

  /** A summary and the length histogram, as printed before training. */
  public String render() {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "examples          %,d%n", examples));
    out.append(String.format(Locale.ROOT, "skipped           %,d%s%n", skipped, skippedByReason.isEmpty() ? "" : "  " + new java.util.TreeMap<>(skippedByReason)));
    out.append(String.format(Locale.ROOT, "tokens            %,d (mean %.1f, longest %,d before truncation)%n", tokens, meanLength(), maxLength));
    out.append(String.format(Locale.ROOT, "tokens with loss  %,d (%.1f%%)%n", lossTokens, tokens == 0 ? 0 : 100.0 * lossTokens / tokens));
    out.append(String.format(Locale.ROOT, "truncated         %,d examples to %d tokens, %,d tokens cut%n", truncated, lengths.cutoff(), truncatedTokens));
    out.append("length histogram (tokens before truncation):\n");
    out.append(lengths.render(40));
    return out.toString();
  }
}
