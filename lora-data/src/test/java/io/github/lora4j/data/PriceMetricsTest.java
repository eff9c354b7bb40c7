package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.data.PriceMetrics.Verdict;
import org.junit.jupiter.api.Test;

class PriceMetricsTest {

  @Test
  void scoresAsTheCourseTesterDoes() {
    double[] truths = {100, 500, 10, 300};
    double[] guesses = {130, 350, 60, 50};
    PriceMetrics m = PriceMetrics.of(truths, guesses);
    assertEquals(4, m.count());
    assertEquals((30 + 150 + 50 + 250) / 4.0, m.meanAbsoluteError(), 1e-12);
    double sle =
        sq(Math.log(131) - Math.log(101)) + sq(Math.log(351) - Math.log(501)) + sq(Math.log(61) - Math.log(11)) + sq(Math.log(51) - Math.log(301));
    assertEquals(Math.sqrt(sle / 4), m.rmsle(), 1e-12);
    // $30 off: hit. $150 off 500 is 30%: close. $50 off 10: close ($80). $250 off 300: miss.
    assertEquals(Verdict.HIT, m.points().get(0).verdict());
    assertEquals(Verdict.CLOSE, m.points().get(1).verdict());
    assertEquals(Verdict.CLOSE, m.points().get(2).verdict());
    assertEquals(Verdict.MISS, m.points().get(3).verdict());
    assertEquals(0.25, m.hitRate());
    assertTrue(m.render().startsWith("MAE $120.00, RMSLE "), m.render());
    assertTrue(m.scatterCsv().startsWith("truth,guess,verdict\n100.00,130.00,HIT\n"), m.scatterCsv());
  }

  @Test
  void twentyPercentCountsAsAHitAboveFortyDollars() {
    assertEquals(Verdict.HIT, PriceMetrics.verdict(900, 750)); // $150 off, 16.7%
    assertEquals(Verdict.CLOSE, PriceMetrics.verdict(100, 40)); // $60 off, 60%
    assertEquals(Verdict.HIT, PriceMetrics.verdict(0, 39));
  }

  @Test
  void perfectGuessesScorePerfectly() {
    PriceMetrics m = PriceMetrics.of(new double[] {1, 20, 300}, new double[] {1, 20, 300});
    assertEquals(0, m.meanAbsoluteError());
    assertEquals(0, m.rmsle());
    assertEquals(1, m.hitRate());
    assertEquals(1, m.correlation(), 1e-12);
  }

  @Test
  void badInputIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> PriceMetrics.of(new double[] {1}, new double[] {1, 2}));
    assertThrows(IllegalArgumentException.class, () -> PriceMetrics.of(new double[0], new double[0]));
    var e = assertThrows(IllegalArgumentException.class, () -> PriceMetrics.of(new double[] {1, 2}, new double[] {1, Double.NaN}));
    assertTrue(e.getMessage().startsWith("pair 1 "), e.getMessage());
  }

  private static double sq(double x) {
    return x * x;
  }
}
