package io.github.lora4j.optim;

/**
 * Dynamic loss scaling for fp16 training, as {@code torch.amp.GradScaler}: gradients are computed
 * for the loss times {@link #scale()}, so that small fp16 values do not flush to zero; the optimizer
 * divides the scale out as it reads them and, after each step, calls {@link #update}: a step with
 * NaN or infinite gradients is skipped and the scale multiplied by {@code backoffFactor}; after
 * {@code growthInterval} good steps in a row it is multiplied by {@code growthFactor}.
 *
 * <pre>{@code
 * LossScaler scaler = LossScaler.dynamic();               // 65536, x2 every 2000 good steps, x0.5 on overflow
 * Optimizer optimizer = AdamW.builder().lossScaler(scaler).build(groups);
 * model.forwardBackward(batch, adapter, scaler.scale() / tokens, seed);
 * optimizer.step();
 * }</pre>
 *
 * Scales stay powers of two with the default factors, so scaling and unscaling are exact. Not
 * thread-safe.
 */
public final class LossScaler {
  private final float growthFactor;
  private final float backoffFactor;
  private final long growthInterval;
  private float scale;
  private long growthTracker;
  private long backoffs;

  private LossScaler(float initScale, float growthFactor, float backoffFactor, long growthInterval) {
    this.scale = (float) Arguments.positive("initScale", initScale);
    if (!(growthFactor > 1 && growthFactor < Float.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("growthFactor must be finite and > 1: " + growthFactor);
    }
    if (!(backoffFactor > 0 && backoffFactor < 1)) {
      throw new IllegalArgumentException("backoffFactor must be in (0, 1): " + backoffFactor);
    }
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = Arguments.positive("growthInterval", growthInterval);
  }

  /** torch.amp.GradScaler's defaults: init_scale 65536, growth_factor 2, backoff_factor 0.5, growth_interval 2000. */
  public static LossScaler dynamic() {
    return new LossScaler(65536f, 2f, 0.5f, 2000);
  }

  /**
   * A scaler with other settings; each is checked here.
   *
   * @throws IllegalArgumentException naming the setting that is out of range
   */
  public static LossScaler of(float initScale, float growthFactor, float backoffFactor, long growthInterval) {
    return new LossScaler(initScale, growthFactor, backoffFactor, growthInterval);
  }

  /** The factor to multiply the loss (or its gradient) by. */
  public float scale() {
    return scale;
  }

  /** Good steps since the last growth or backoff. */
  public long growthTracker() {
    return growthTracker;
  }

  /** Times the scale backed off. */
  public long backoffs() {
    return backoffs;
  }

  /**
   * torch's {@code _amp_update_scale_}: on overflow back off and restart the count; otherwise count
   * the step and grow after {@code growthInterval} of them, unless growing would overflow the scale.
   */
  void update(boolean foundNonFinite) {
    if (foundNonFinite) {
      scale *= backoffFactor;
      growthTracker = 0;
      backoffs++;
      return;
    }
    growthTracker++;
    if (growthTracker == growthInterval) {
      float grown = scale * growthFactor;
      if (Float.isFinite(grown)) {
        scale = grown;
      }
      growthTracker = 0;
    }
  }

  void restore(float scale, long growthTracker, long backoffs) {
    this.scale = (float) Arguments.positive("loss scale", scale);
    this.growthTracker = growthTracker;
    this.backoffs = backoffs;
  }

  @Override
  public String toString() {
    return "LossScaler(scale=" + scale + ", growthTracker=" + growthTracker + ", growthFactor=" + growthFactor + ", backoffFactor=" + backoffFactor
        + ", growthInterval=" + growthInterval + ")";
  }
}
