package io.github.lora4j.core.model;

/**
 * How a model stretches its rotary position embeddings (config.json's {@code rope_type}): not at
 * all, linearly, or Llama 3's frequency-dependent way.
 *
 * <p>{@link #inverseFrequencies} reproduces transformers' {@code inv_freq} bit for bit as its CPU
 * build computes it: transformers works in float32 tensors with Python scalars, so every step here
 * is a float operation in the same order, with each scalar first rounded to float, and {@code
 * base ** exponent} is the correctly rounded float power (checked against transformers 5.17 on
 * torch 2.11 for Llama 3.1 8B, Llama 3.2 1B, Qwen2 and linear scaling: equal in every bit). On
 * CUDA, torch's float {@code pow} differs in the last bits for a few frequencies (up to 2 ulps
 * seen), so a model that builds {@code inv_freq} on the GPU in transformers differs from both by
 * that much.
 */
public sealed interface RopeScaling {

  /** The {@code rope_type}: "default", "linear" or "llama3". */
  String ropeType();

  /**
   * Scales the unscaled inverse frequencies {@code 1 / theta^(2i / headDim)}, in float32 as
   * transformers does; returns a new array.
   */
  float[] apply(float[] inverseFrequencies);

  /**
   * The inverse frequencies of rotary embeddings over {@code headDim} dimensions: {@code headDim /
   * 2} values, {@code 1 / theta^(2i / headDim)} then scaled by this. Equal in every bit to
   * transformers' {@code inv_freq} on CPU (see the type's comment).
   */
  default float[] inverseFrequencies(int headDim, double theta) {
    if (headDim <= 0 || headDim % 2 != 0) {
      throw new IllegalArgumentException("headDim must be positive and even: " + headDim);
    }
    // transformers: 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)).
    float base = (float) theta;
    float[] invFreq = new float[headDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      float exponent = (float) (2 * i) / (float) headDim;
      invFreq[i] = 1.0f / (float) Math.pow(base, exponent);
    }
    return apply(invFreq);
  }

  /** Plain RoPE, as trained. */
  record Default() implements RopeScaling {
    @Override
    public String ropeType() {
      return "default";
    }

    @Override
    public float[] apply(float[] inverseFrequencies) {
      return inverseFrequencies.clone();
    }
  }

  /**
   * Positions divided by {@code factor}, which is the same as dividing every inverse frequency by
   * it (transformers' {@code _compute_linear_scaling_rope_parameters}).
   */
  record Linear(double factor) implements RopeScaling {
    /**
     * Checks the factor.
     *
     * @throws IllegalArgumentException unless factor is positive and finite
     */
    public Linear {
      if (!(factor > 0) || Double.isInfinite(factor)) {
        throw new IllegalArgumentException("factor must be a positive number: " + factor);
      }
    }

    @Override
    public String ropeType() {
      return "linear";
    }

    @Override
    public float[] apply(float[] inverseFrequencies) {
      float f = (float) factor;
      float[] out = new float[inverseFrequencies.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = inverseFrequencies[i] / f;
      }
      return out;
    }
  }

  /**
   * Llama 3.1's scaling (transformers' {@code _compute_llama3_parameters}): wavelengths {@code 2π
   * / invFreq} longer than {@code originalMaxPositionEmbeddings / lowFreqFactor} are divided by
   * {@code factor}, those shorter than {@code originalMaxPositionEmbeddings / highFreqFactor} are
   * kept, and those between are blended with {@code smooth = (originalMax / wavelen - low) / (high
   * - low)}: {@code (1 - smooth) * invFreq / factor + smooth * invFreq}.
   */
  record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
      implements RopeScaling {
    /**
     * Checks the factors.
     *
     * @throws IllegalArgumentException unless {@code 0 < lowFreqFactor < highFreqFactor} and factor and
     *     originalMaxPositionEmbeddings are positive
     */
    public Llama3 {
      if (!(factor > 0) || Double.isInfinite(factor)) {
        throw new IllegalArgumentException("factor must be a positive number: " + factor);
      }
      if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || Double.isInfinite(highFreqFactor)) {
        throw new IllegalArgumentException("need 0 < lowFreqFactor < highFreqFactor: low " + lowFreqFactor
            + ", high " + highFreqFactor);
      }
      if (originalMaxPositionEmbeddings <= 0) {
        throw new IllegalArgumentException("originalMaxPositionEmbeddings must be > 0: "
            + originalMaxPositionEmbeddings);
      }
    }

    @Override
    public String ropeType() {
      return "llama3";
    }

    @Override
    public float[] apply(float[] inverseFrequencies) {
      // Each Python scalar meets a float32 tensor, so torch rounds it to float first.
      float factorF = (float) factor;
      float low = (float) lowFreqFactor;
      float originalMax = originalMaxPositionEmbeddings;
      float lowFreqWavelen = (float) (originalMaxPositionEmbeddings / lowFreqFactor);
      float highFreqWavelen = (float) (originalMaxPositionEmbeddings / highFreqFactor);
      float band = (float) (highFreqFactor - lowFreqFactor);
      float twoPi = (float) (2 * Math.PI);
      float[] out = new float[inverseFrequencies.length];
      for (int i = 0; i < out.length; i++) {
        float invFreq = inverseFrequencies[i];
        // torch evaluates scalar / tensor as tensor.reciprocal() * scalar.
        float wavelen = (1.0f / invFreq) * twoPi;
        float scaled = wavelen > lowFreqWavelen ? invFreq / factorF : invFreq;
        float smooth = ((1.0f / wavelen) * originalMax - low) / band;
        float smoothed = (1.0f - smooth) * scaled / factorF + smooth * scaled;
        boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
        out[i] = medium ? smoothed : scaled;
      }
      return out;
    }
  }
}
