package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * A histogram of example lengths in tokens, in equal bins {@code [lo, lo + binWidth)} from 0, for
 * choosing {@code maxSequenceLength} and for the report.
 *
 * @param binWidth the width of every bin, in tokens
 * @param counts the number of examples in each bin; bin i holds lengths {@code [i * binWidth, (i +
 *     1) * binWidth)}
 * @param cutoff the {@code maxSequenceLength} the lengths are compared with (0 for none): examples
 *     above it were truncated
 */
public record LengthHistogram(int binWidth, long[] counts, int cutoff) {

  public LengthHistogram {
    if (binWidth <= 0) {
      throw new IllegalArgumentException("binWidth must be positive: " + binWidth);
    }
    counts = counts.clone();
  }

  /**
   * Bins {@code lengths} into at most about {@code maxBins} bins of a round width (1, 2 or 5 times
   * a power of ten).
   */
  public static LengthHistogram of(int[] lengths, int maxBins, int cutoff) {
    if (maxBins <= 0) {
      throw new IllegalArgumentException("maxBins must be positive: " + maxBins);
    }
    int max = Arrays.stream(lengths).max().orElse(0);
    int width = 1;
    for (long scale = 1; ; scale *= 10) {
      int w = -1;
      for (int m : new int[] {1, 2, 5}) {
        long candidate = m * scale;
        if ((long) max / candidate + 1 <= maxBins) {
          w = (int) candidate;
          break;
        }
      }
      if (w > 0) {
        width = w;
        break;
      }
    }
    long[] counts = new long[max / width + 1];
    for (int length : lengths) {
      counts[length / width]++;
    }
    return new LengthHistogram(width, counts, cutoff);
  }

  @Override
  public long[] counts() {
    return counts.clone();
  }

  public long total() {
    return Arrays.stream(counts).sum();
  }

  /**
   * The histogram as text, one line per bin with a bar of up to {@code barWidth} characters, and a
   * mark on bins above the cutoff:
   *
   * <pre>
   *   160-169 |#########################                    412
   *   180-189 |###                                           37  truncated
   * </pre>
   */
  public String render(int barWidth) {
    long peak = Math.max(1, Arrays.stream(counts).max().orElse(1));
    int labelWidth = String.valueOf(counts.length * binWidth).length();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < counts.length; i++) {
      int lo = i * binWidth;
      int hi = lo + binWidth - 1;
      String label = binWidth == 1 ? String.valueOf(lo) : lo + "-" + hi;
      int bar = (int) Math.round((double) counts[i] * barWidth / peak);
      out.append(String.format(Locale.ROOT, "%" + (2 * labelWidth + 1) + "s |%-" + barWidth + "s %d", label, "#".repeat(bar), counts[i]));
      if (cutoff > 0 && hi > cutoff && counts[i] > 0) {
        out.append(lo > cutoff ? "  truncated" : "  partly truncated");
      }
      out.append('\n');
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LengthHistogram h && binWidth == h.binWidth && cutoff == h.cutoff && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return 31 * binWidth + Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "LengthHistogram[binWidth=" + binWidth + ", counts=" + Arrays.toString(counts) + ", cutoff=" + cutoff + "]";
  }
}
