package io.github.lora4j.core.model;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * Seeded random weights for tests, demos and benchmarks of a model shape without a checkpoint:
 * normal(0, std) for every matrix and bias as transformers' {@code initializer_range} does, ones for
 * norm scales. A key's values depend only on the seed and the key, not on load order.
 */
public final class RandomWeights implements WeightSource {
  private final long seed;
  private final double std;

  public RandomWeights(long seed, double std) {
    if (!(std > 0) || Double.isInfinite(std)) {
      throw new IllegalArgumentException("std must be positive and finite: " + std);
    }
    this.seed = seed;
    this.std = std;
  }

  @Override
  public boolean contains(String key) {
    return true;
  }

  @Override
  public Tensor load(String key, Shape expected, Backend backend, DType dtype) {
    float[] values = new float[expected.numelInt()];
    if (key.endsWith("norm.weight")) {
      java.util.Arrays.fill(values, 1f);
    } else {
      SplittableRandom random = new SplittableRandom(seed ^ (long) key.hashCode() * 0x9E3779B97F4A7C15L);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (random.nextGaussian() * std);
      }
    }
    return backend.fromFloats(values, expected, dtype);
  }

  @Override
  public String describe() {
    return "random(seed=" + seed + ", std=" + std + ")";
  }
}
