package io.github.lora4j.optim;

/**
 * The settings of the Adam family ({@link AdamW}, {@link PagedAdamW}, {@link AdamW8bit}): betas,
 * eps and AMSGrad, with torch.optim.AdamW's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * weight_decay 0.01, amsgrad False).
 *
 * @param <B> the concrete builder
 * @param <O> the optimizer it builds
 */
public abstract sealed class AdamWBuilder<B extends AdamWBuilder<B, O>, O extends Optimizer> extends OptimizerBuilder<B, O> permits AdamW.Builder, AdamW8bit.Builder, PagedAdamW.Builder {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  boolean amsgrad;

  AdamWBuilder() {
    super(1e-3, 1e-2);
  }

  /** The decay rates of the first and second moments, each in [0, 1). */
  public B betas(double beta1, double beta2) {
    this.beta1 = Arguments.beta("beta1", beta1);
    this.beta2 = Arguments.beta("beta2", beta2);
    return self();
  }

  /** Added to the denominator; >= 0. */
  public B eps(double eps) {
    this.eps = Arguments.nonNegative("eps", eps);
    return self();
  }

  /** Normalise by the running maximum of the second moment (AMSGrad) instead of the moment itself. */
  public B amsgrad(boolean amsgrad) {
    this.amsgrad = amsgrad;
    return self();
  }

  AdamWSettings settings() {
    return new AdamWSettings(beta1, beta2, eps, amsgrad);
  }
}
