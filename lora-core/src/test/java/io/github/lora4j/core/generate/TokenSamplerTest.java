package io.github.lora4j.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Greedy picks, the top-k / top-p filters and the draws of {@link TokenSampler}. */
class TokenSamplerTest {

  private static GenerationConfig sampling(double temperature, int topK, double topP) {
    return GenerationConfig.builder().temperature(temperature).topK(topK).topP(topP).build();
  }

  @Test
  void argmaxTakesTheFirstOfTiedMaxima() {
    assertEquals(1, TokenSampler.argmax(new float[] {0, 3, 3, -1}, 0, 4));
    assertEquals(1, TokenSampler.argmax(new float[] {9, 0, 3, 5, 5}, 2, 3), "a row is read from its offset: [3, 5, 5]");
  }

  @Test
  void nonFiniteLogitsAreAnErrorNamingTheToken() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TokenSampler.argmax(new float[] {0, Float.NaN}, 0, 2));
    assertTrue(e.getMessage().contains("token 1"), e.getMessage());
  }

  @Test
  void topKKeepsTokensTiedWithTheKth() {
    double[] p = TokenSampler.probabilities(new float[] {1, 4, 2, 2, 0}, 0, 5, sampling(1, 2, 1));
    assertEquals(0, p[0]);
    assertEquals(0, p[4]);
    assertTrue(p[1] > 0 && p[2] > 0 && p[3] > 0);
    assertEquals(p[2], p[3]);
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    // Probabilities 0.5, 0.3, 0.2 (logits are their logs): top-p 0.7 keeps the first two, 0.85 all three.
    float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
    double[] p = TokenSampler.probabilities(logits, 0, 3, sampling(1, 0, 0.7));
    assertEquals(0.625, p[0], 1e-6);
    assertEquals(0.375, p[1], 1e-6);
    assertEquals(0, p[2]);
    assertEquals(3, java.util.Arrays.stream(TokenSampler.probabilities(logits, 0, 3, sampling(1, 0, 0.85))).filter(x -> x > 0).count());
    double[] tiny = TokenSampler.probabilities(logits, 0, 3, sampling(1, 0, 0.01));
    assertEquals(1.0, tiny[0], 1e-12, "the most likely token always stays");
  }

  @Property(tries = 50)
  void keptProbabilitiesSumToOneAndKeepTheMostLikely(
      @ForAll @IntRange(min = 1, max = 40) int vocab, @ForAll @IntRange(min = 0, max = 10) int topK,
      @ForAll @DoubleRange(min = 0.05, max = 1) double topP, @ForAll @DoubleRange(min = 0.1, max = 3) double temperature, @ForAll long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] logits = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      logits[i] = (float) (r.nextGaussian() * 3);
    }
    double[] p = TokenSampler.probabilities(logits, 0, vocab, sampling(temperature, topK, topP));
    assertEquals(1.0, java.util.Arrays.stream(p).sum(), 1e-9);
    assertTrue(p[TokenSampler.argmax(logits, 0, vocab)] > 0);
    long kept = java.util.Arrays.stream(p).filter(x -> x > 0).count();
    if (topK > 0) {
      assertTrue(kept >= Math.min(topK, vocab) || topP < 1, "top-k alone keeps at least k tokens");
    }
  }

  @Test
  void drawsFollowTheDistribution() {
    float[] logits = {(float) Math.log(0.1), (float) Math.log(0.6), (float) Math.log(0.3)};
    GenerationConfig c = sampling(1, 0, 1);
    SplittableRandom rng = new SplittableRandom(17);
    int n = 60_000;
    int[] counts = new int[3];
    for (int i = 0; i < n; i++) {
      counts[TokenSampler.sample(logits, 0, 3, c, rng)]++;
    }
    double[] want = {0.1, 0.6, 0.3};
    double chi2 = 0;
    for (int i = 0; i < 3; i++) {
      chi2 += Math.pow(counts[i] - n * want[i], 2) / (n * want[i]);
    }
    // 2 degrees of freedom: P(chi2 > 13.8) = 0.001.
    assertTrue(chi2 < 13.8, "chi-square " + chi2 + " for counts " + java.util.Arrays.toString(counts));
  }
}
