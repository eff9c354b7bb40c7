package io.github.lora4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * How good a pricer's guesses are, as the course's tester scores them: the mean absolute error in
 * dollars, the root mean squared log error ({@code sqrt(mean((log(1 + guess) - log(1 + truth))^2))},
 * which weighs a $10 miss on a $20 item like a $100 miss on a $200 one), and the hit rate: the
 * share of guesses within $40 or 20% of the truth. Each guess is also a point of the guess-against-
 * truth scatter, coloured as the tester colours it.
 *
 * <pre>{@code
 * PriceMetrics m = PriceMetrics.of(truths, guesses);
 * System.out.println(m.render()); // MAE $38.21, RMSLE 0.41, hits 71.0% of 250
 * }</pre>
 *
 * @param count the number of guesses
 * @param meanAbsoluteError the mean of |guess - truth|, in dollars
 * @param rmsle the root mean squared log error; negative guesses count as 0
 * @param hitRate the share of {@link Verdict#HIT}s, in [0, 1]
 * @param correlation Pearson's correlation of guess and truth (NaN for fewer than 2 points or no
 *     spread)
 * @param points the scatter of guess against truth, in input order
 */
public record PriceMetrics(int count, double meanAbsoluteError, double rmsle, double hitRate, double correlation, List<PricePoint> points) {

  /** The tester's colours: green within $40 or 20%, orange within $80 or 40%, red beyond. */
  public enum Verdict {
    /** Within $40 or 20% of the truth: counts as a hit. */
    HIT,
    /** Within $80 or 40%. */
    CLOSE,
    /** Further off. */
    MISS
  }

  /**
   * One guess.
   *
   * @param truth the true price
   * @param guess the guessed price
   * @param verdict how the tester judges it
   */
  public record PricePoint(double truth, double guess, Verdict verdict) {
    public double error() {
      return Math.abs(guess - truth);
    }
  }

  public PriceMetrics {
    points = List.copyOf(points);
  }

  /** Judges one guess. */
  public static Verdict verdict(double truth, double guess) {
    double error = Math.abs(guess - truth);
    double relative = truth > 0 ? error / truth : Double.POSITIVE_INFINITY;
    if (error < 40 || relative < 0.2) {
      return Verdict.HIT;
    }
    if (error < 80 || relative < 0.4) {
      return Verdict.CLOSE;
    }
    return Verdict.MISS;
  }

  /**
   * Scores {@code guesses} against {@code truths}.
   *
   * @throws IllegalArgumentException when the arrays differ in length, are empty, or hold a
   *     non-finite value or a negative truth
   */
  public static PriceMetrics of(double[] truths, double[] guesses) {
    if (truths.length != guesses.length) {
      throw new IllegalArgumentException("truths has " + truths.length + " values, guesses " + guesses.length);
    }
    if (truths.length == 0) {
      throw new IllegalArgumentException("no guesses to score");
    }
    SummaryStatistics absolute = new SummaryStatistics();
    SummaryStatistics squaredLog = new SummaryStatistics();
    List<PricePoint> points = new ArrayList<>(truths.length);
    int hits = 0;
    for (int i = 0; i < truths.length; i++) {
      double t = truths[i];
      double g = guesses[i];
      if (!Double.isFinite(t) || !Double.isFinite(g) || t < 0) {
        throw new IllegalArgumentException("pair " + i + " is not a finite guess of a non-negative price: truth " + t + ", guess " + g);
      }
      absolute.addValue(Math.abs(g - t));
      double logError = Math.log1p(Math.max(g, 0)) - Math.log1p(t);
      squaredLog.addValue(logError * logError);
      Verdict v = verdict(t, g);
      if (v == Verdict.HIT) {
        hits++;
      }
      points.add(new PricePoint(t, g, v));
    }
    double correlation = Double.NaN;
    if (truths.length >= 2) {
      correlation = new PearsonsCorrelation().correlation(truths, guesses);
    }
    return new PriceMetrics(truths.length, absolute.getMean(), Math.sqrt(squaredLog.getMean()), (double) hits / truths.length, correlation, points);
  }

  /** The number of guesses with {@code verdict}. */
  public long count(Verdict verdict) {
    return points.stream().filter(p -> p.verdict() == verdict).count();
  }

  /** One line: {@code MAE $38.21, RMSLE 0.41, hits 71.0% of 250 (close 40, miss 32), r 0.91}. */
  public String render() {
    return String.format(
        Locale.ROOT,
        "MAE $%.2f, RMSLE %.2f, hits %.1f%% of %d (close %d, miss %d), r %.2f",
        meanAbsoluteError, rmsle, 100 * hitRate, count, count(Verdict.CLOSE), count(Verdict.MISS), correlation);
  }

  /** The scatter as CSV, {@code truth,guess,verdict} with a header, for the report. */
  public String scatterCsv() {
    StringBuilder out = new StringBuilder("truth,guess,verdict\n");
    for (PricePoint p : points) {
      out.append(String.format(Locale.ROOT, "%.2f,%.2f,%s%n", p.truth(), p.guess(), p.verdict()));
    }
    return out.toString();
  }
}
