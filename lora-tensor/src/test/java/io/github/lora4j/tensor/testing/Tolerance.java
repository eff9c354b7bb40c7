package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.github.lora4j.tensor.DType;
import java.util.Locale;

/**
 * An element-wise closeness test, {@code |actual - expected| <= atol + rtol * |expected|}, whose
 * failure message gives the worst element, the observed error, the tolerance and where the
 * tolerance comes from ({@code basis}). NaN is close only to NaN, and an infinity only to the same
 * infinity.
 *
 * <pre>{@code
 * new Tolerance(1e-5, 1e-5).assertClose("rmsNorm out", backend.toFloats(out), ReferenceOps.rmsNorm(...));
 * }</pre>
 */
public record Tolerance(double atol, double rtol, String basis) {

  public Tolerance {
    if (!(atol >= 0 && rtol >= 0)) {
      throw new IllegalArgumentException("tolerances must be >= 0: atol " + atol + ", rtol " + rtol);
    }
    if (basis == null) {
      throw new IllegalArgumentException("basis must not be null; use \"\" for none");
    }
  }

  /** A tolerance with no stated basis beyond the numbers themselves. */
  public Tolerance(double atol, double rtol) {
    this(atol, rtol, "");
  }

  /**
   * This (fp32) tolerance widened for an output stored in {@code stored}: plus {@code atol = c * u *
   * scale} and {@code rtol = c * u}, where {@code u} is {@code stored}'s unit roundoff (2^-8 for
   * BF16). {@code c} counts the roundings to {@code stored} that reach the output (plus slack) and
   * {@code scale} is the magnitude of the values rounded; {@code why} says which they are. F32
   * returns this tolerance unchanged.
   */
  public Tolerance widenedFor(DType stored, double c, double scale, String why) {
    if (stored == DType.F32) {
      return this;
    }
    double u = FloatRounding.unitRoundoff(stored);
    String derivation = String.format(Locale.ROOT,
        "%s: fp32 tolerance + c %s * 2^%d * scale %.3g (abs) and c %s * 2^%d (rel); %s",
        stored, fmt(c), Math.getExponent(u), scale, fmt(c), Math.getExponent(u), why);
    return new Tolerance(atol + c * u * scale, rtol + c * u, basis.isEmpty() ? derivation : basis + "; " + derivation);
  }

  private static String fmt(double c) {
    return c == Math.rint(c) ? Long.toString((long) c) : Double.toString(c);
  }

  public void assertClose(String what, float[] actual, double[] expected) {
    assertClose(what, TestArrays.toDouble(actual), expected);
  }

  public void assertClose(String what, float[] actual, float[] expected) {
    assertClose(what, TestArrays.toDouble(actual), TestArrays.toDouble(expected));
  }

  public void assertClose(String what, double actual, double expected) {
    assertClose(what, new double[] {actual}, new double[] {expected});
  }

  public void assertClose(String what, double[] actual, double[] expected) {
    if (actual.length != expected.length) {
      fail(what + ": " + actual.length + " values, expected " + expected.length);
    }
    int worst = -1;
    double worstExcess = 0;
    double maxAbsError = 0;
    for (int i = 0; i < actual.length; i++) {
      double a = actual[i];
      double e = expected[i];
      if (Double.isNaN(e) || Double.isInfinite(e)) {
        if (Double.compare(a, e) != 0) {
          fail(what + ": element " + i + " is " + a + ", expected " + e);
        }
        continue;
      }
      double err = Math.abs(a - e);
      if (Double.isNaN(err)) {
        fail(what + ": element " + i + " is " + a + ", expected " + e);
      }
      maxAbsError = Math.max(maxAbsError, err);
      double excess = err - (atol + rtol * Math.abs(e));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    if (worst >= 0) {
      double e = expected[worst];
      fail(String.format(Locale.ROOT,
          "%s: element %d of %d is %.9g, expected %.9g; error %.3g exceeds atol %.3g + rtol %.3g * |expected| = %.3g (max abs error over all elements %.3g)%s",
          what, worst, actual.length, actual[worst], e, Math.abs(actual[worst] - e), atol, rtol, atol + rtol * Math.abs(e), maxAbsError,
          basis.isEmpty() ? "" : " [" + basis + "]"));
    }
  }

  /** The largest {@code |actual - expected|}, for tests that report the error they observed. */
  public static double maxAbsError(double[] actual, double[] expected) {
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      max = Math.max(max, Math.abs(actual[i] - expected[i]));
    }
    return max;
  }
}
