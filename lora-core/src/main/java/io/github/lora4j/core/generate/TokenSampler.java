package io.github.lora4j.core.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits on the host: greedy (the first largest logit, as
 * {@code torch.argmax}) or sampled after temperature, top-k and top-p, in the order and with the
 * tie rules of transformers' logits warpers (top-k keeps every token tied with the k-th; top-p
 * drops the least likely tokens whose cumulative probability stays at or under {@code 1 - topP},
 * always keeping the most likely one). Sampling in double from the backend's float logits makes
 * the draw identical on every backend that produced the same logits.
 */
final class TokenSampler {
  private TokenSampler() {}

  /** The index of the largest logit in {@code logits[offset, offset + vocab)}, the first one on ties. */
  static int argmax(float[] logits, int offset, int vocab) {
    int best = -1;
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      float v = logits[offset + i];
      if (Float.isNaN(v)) {
        throw nonFinite(offset / vocab, i, v);
      }
      if (best < 0 || v > max) {
        best = i;
        max = v;
      }
    }
    return best;
  }

  static int sample(float[] logits, int offset, int vocab, GenerationConfig c, SplittableRandom rng) {
    double[] p = probabilities(logits, offset, vocab, c);
    double u = rng.nextDouble();
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < vocab; i++) {
      if (p[i] > 0) {
        cumulative += p[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    // u fell in the rounding gap above the summed probabilities.
    return last;
  }

  /** The distribution that {@link #sample} draws from, normalised over the tokens kept. */
  static double[] probabilities(float[] logits, int offset, int vocab, GenerationConfig c) {
    double[] scaled = new double[vocab];
    for (int i = 0; i < vocab; i++) {
      float v = logits[offset + i];
      if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
        throw nonFinite(offset / vocab, i, v);
      }
      scaled[i] = v / c.temperature();
    }
    if (c.topK() > 0 && c.topK() < vocab) {
      double[] sorted = scaled.clone();
      Arrays.sort(sorted);
      double kth = sorted[vocab - c.topK()];
      for (int i = 0; i < vocab; i++) {
        if (scaled[i] < kth) {
          scaled[i] = Double.NEGATIVE_INFINITY;
        }
      }
    }
    double[] p = softmax(scaled);
    if (c.topP() < 1) {
      Integer[] ascending = new Integer[vocab];
      for (int i = 0; i < vocab; i++) {
        ascending[i] = i;
      }
      Arrays.sort(ascending, (a, b) -> Double.compare(p[a], p[b]));
      double cumulative = 0;
      for (int r = 0; r < vocab - 1; r++) {
        cumulative += p[ascending[r]];
        if (cumulative <= 1 - c.topP()) {
          scaled[ascending[r]] = Double.NEGATIVE_INFINITY;
        }
      }
      return softmax(scaled);
    }
    return p;
  }

  private static double[] softmax(double[] x) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : x) {
      max = Math.max(max, v);
    }
    if (max == Double.NEGATIVE_INFINITY) {
      throw new IllegalStateException("every logit is -inf: there is no token to sample");
    }
    double[] p = new double[x.length];
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      p[i] = Math.exp(x[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < x.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private static IllegalStateException nonFinite(int row, int token, float v) {
    return new IllegalStateException(
        "the logit of token " + token + " in row " + row + " is " + v + ": the model's output is not finite (an fp32 computeType, or a lower learning rate for the adapter, may help)");
  }
}
