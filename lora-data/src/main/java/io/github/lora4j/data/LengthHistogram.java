package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * A histogram of example lengths in tokens, in equal bins {@code [start + i * binWidth, start + (i
 * + 1) * binWidth)} from the shortest example's bin to the longest's, for choosing {@code
 * maxSequenceLength} and for the report.
 *
 * @param start the first bin's lower edge, a multiple of {@code binWidth}
 * @param binWidth the width of every bin, in tokens
 * @param counts the number of examples in each bin
 * @param cutoff the {@code maxSequenceLength} the lengths are compared with (0 for none)
 * @param aboveCutoff the number of examples longer than the cutoff (those truncated)
 */
public record LengthHistogram(int start, int binWidth, long[] counts, int cutoff, long aboveCutoff) {

  public LengthHistogram {
    if (binWidth <= 0) {
      throw new IllegalArgumentException("binWidth must be positive: " + binWidth);
    }
    if (start < 0 || start % binWidth != 0) {
      throw new IllegalArgumentException("start must be a non-negative multiple of binWidth " + binWidth + ": " + start);
    }
    counts = counts.clone();
  }

  /**
   * Bins {@code lengths} into at most {@code maxBins} bins of a round width (1, 2 or 5 times a
   * power of ten).
   */
  public static LengthHistogram of(int[] lengths, int maxBins, int cutoff) {
    if (maxBins <= 0) {
      throw new IllegalArgumentException("maxBins must be positive: " + maxBins);
    }
    int min = Arrays.stream(lengths).min().orElse(0);
    int max = Arrays.stream(lengths).max().orElse(0);
    int width = 0;
    for (long scale = 1; width == 0; scale *= 10) {
      for (int m : new int[] {1, 2, 5}) {
        long w = m * scale;
        if (max / w - min / w + 1 <= maxBins) {
          width = (int) w;
          break;
        }
      }
    }
    int start = min / width * width;
    long[] counts = new long[max / width - min / width + 1];
    long above = 0;
    for (int length : lengths) {
      counts[(length - start) / width]++;
      if (cutoff > 0 && length > cutoff) {
        above++;
      }
    }
    return new LengthHistogram(start, width, counts, cutoff, above);
  }

  @Override
  public long[] counts() {
    return counts.clone();
  }

  public long total() {
    return Arrays.stream(counts).sum();
  }

  /**
   * The histogram as text, one line per bin with a bar of up to {@code barWidth} characters; bins
   * above the cutoff are marked:
   *
   * <pre>
   *   160-169 |#########################                    412
   *   180-189 |###                                           37  (12 truncated)
   * </pre>
   */
  public String render(int barWidth) {
    long peak = Math.max(1, Arrays.stream(counts).max().orElse(1));
    int labelWidth = String.valueOf(start + counts.length * binWidth).length();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < counts.length; i++) {
      int lo = start + i * binWidth;
      int hi = lo + binWidth - 1;
      String label = binWidth == 1 ? String.valueOf(lo) : lo + "-" + hi;
      int bar = (int) Math.round((double) counts[i] * barWidth / peak);
      out.append(String.format(Locale.ROOT, "%" + (2 * labelWidth + 1) + "s |%-" + barWidth + "s %d", label, "#".repeat(bar), counts[i]));
      if (cutoff > 0 && counts[i] > 0 && lo > cutoff) {
        out.append("  truncated");
      } else if (cutoff > 0 && counts[i] > 0 && hi > cutoff && aboveCutoff > 0) {
        out.append("  (").append(aboveCutoff - above(i + 1)).append(" truncated)");
      }
      out.append('\n');
    }
    return out.toString();
  }

  /** The examples in bins from {@code bin} on. */
  private long above(int bin) {
    long n = 0;
    for (int i = bin; i < counts.length; i++) {
      n += counts[i];
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LengthHistogram h && start == h.start && binWidth == h.binWidth && cutoff == h.cutoff && aboveCutoff == h.aboveCutoff && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * start + binWidth) + Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "LengthHistogram[start=" + start + ", binWidth=" + binWidth + ", counts=" + Arrays.toString(counts) + ", cutoff=" + cutoff + ", aboveCutoff=" + aboveCutoff + "]";
  }
}
