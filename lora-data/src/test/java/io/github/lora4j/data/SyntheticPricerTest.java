package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;
import org.junit.jupiter.api.Test;

class SyntheticPricerTest {

  @Test
  void sameSeedSameListings() {
    List<PricerItem> a = SyntheticPricer.builder().seed(7).build().generate(50);
    List<PricerItem> b = SyntheticPricer.builder().seed(7).build().generate(50);
    assertEquals(a, b);
    assertNotEquals(a, SyntheticPricer.builder().seed(8).build().generate(50));
    assertEquals(a.subList(0, 20), SyntheticPricer.builder().seed(7).build().generate(20));
  }

  @Test
  void pricesFollowTheRuleUpToTheNoise() {
    List<PricerItem> items = SyntheticPricer.builder().seed(1).noise(0.1).build().generate(2000);
    SummaryStatistics logRatio = new SummaryStatistics();
    for (PricerItem item : items) {
      assertTrue(item.price() >= 1 && item.price() <= 999, "price " + item.price());
      logRatio.addValue(Math.log(item.price() / SyntheticPricer.rulePrice(item)));
    }
    // Redrawing out-of-range prices trims the tails a little; the spread stays near the noise.
    assertEquals(0.0, logRatio.getMean(), 0.01);
    assertEquals(0.1, logRatio.getStandardDeviation(), 0.01);
    assertEquals(0.0, new SummaryStatistics().getN());
    List<PricerItem> exact = SyntheticPricer.builder().seed(1).noise(0).build().generate(10);
    for (PricerItem item : exact) {
      assertEquals(SyntheticPricer.rulePrice(item), item.price(), 0.005);
    }
  }

  @Test
  void theRuleIsLearnableFromTheText() {
    // log(price) is linear in one-hot features of words the listing states: a least-squares fit
    // on them explains nearly all the variance, leaving the noise.
    List<PricerItem> items = SyntheticPricer.builder().seed(3).build().generate(3000);
    List<String> vocabulary = new ArrayList<>();
    for (PricerItem item : items) {
      for (String w : words(item)) {
        if (!vocabulary.contains(w)) {
          vocabulary.add(w);
        }
      }
    }
    double[][] x = new double[items.size()][vocabulary.size()];
    double[] y = new double[items.size()];
    for (int i = 0; i < items.size(); i++) {
      for (String w : words(items.get(i))) {
        x[i][vocabulary.indexOf(w)] = 1;
      }
      y[i] = Math.log(items.get(i).price());
    }
    // Drop one column per group to avoid perfect collinearity with the intercept.
    double[][] reduced = dropColumns(x, vocabulary, List.of("cat:Electronics", "brand:Valuline", "size:Compact", "material:Plastic"));
    OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
    ols.newSampleData(y, reduced);
    assertTrue(ols.calculateRSquared() > 0.95, "R^2 " + ols.calculateRSquared());
  }

  private static List<String> words(PricerItem item) {
    Map<String, String> d = item.details();
    return List.of("cat:" + item.category(), "brand:" + d.get("Brand"), "size:" + d.get("Size"), "material:" + d.get("Material"));
  }

  private static double[][] dropColumns(double[][] x, List<String> vocabulary, List<String> drop) {
    List<Integer> keep = new ArrayList<>();
    for (int j = 0; j < vocabulary.size(); j++) {
      if (!drop.contains(vocabulary.get(j))) {
        keep.add(j);
      }
    }
    double[][] out = new double[x.length][keep.size()];
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < keep.size(); k++) {
        out[i][k] = x[i][keep.get(k)];
      }
    }
    return out;
  }

  @Test
  void listingsStateWhatTheRuleUses() {
    PricerItem item = SyntheticPricer.builder().build().generate(1).getFirst();
    String text = item.title() + " " + String.join(" ", item.description()) + " " + String.join(" ", item.features());
    assertTrue(text.contains(item.details().get("Brand")));
    assertTrue(text.contains(item.details().get("Size")));
    assertTrue(text.contains(item.details().get("Material")));
    assertTrue(PricerData.scrub(PricerData.contents(item)).length() >= 300, "long enough for the course's 300-character floor");
  }

  @Test
  void rejectsForeignListingsAndBadSettings() {
    PricerItem foreign = new PricerItem("A thing", List.of(), List.of(), Map.of(), "Books", 10);
    assertThrows(IllegalArgumentException.class, () -> SyntheticPricer.rulePrice(foreign));
    var e = assertThrows(IllegalArgumentException.class, () -> SyntheticPricer.builder().noise(-1));
    assertEquals("noise must be in [0, 2]: -1.0", e.getMessage());
  }
}
