package io.github.lora4j.optim;

import java.util.List;
import java.util.Locale;

/**
 * Optimizers by the names of transformers' {@code TrainingArguments.optim}, with transformers'
 * defaults: learning rate 5e-5, weight decay 0, betas (0.9, 0.999), eps 1e-8, max_grad_norm 1.0.
 * Each preset is a builder to adjust before {@code build}:
 *
 * <pre>{@code
 * Optimizer optimizer = Optimizers.byName("paged_adamw_32bit")
 *     .learningRate(Schedules.cosine(2e-4, 1000).withWarmupRatio(0.03))
 *     .weightDecay(0.01)
 *     .build(groups);
 * }</pre>
 *
 * <table>
 * <caption>Presets</caption>
 * <tr><th>name</th><th>optimizer</th></tr>
 * <tr><td>{@code adamw_torch}</td><td>{@link AdamW}, as {@code torch.optim.AdamW}</td></tr>
 * <tr><td>{@code paged_adamw_32bit}</td><td>{@link PagedAdamW}, fp32 state paged through {@link PagedAdamW#DEFAULT_PAGE_POOL_BYTES}</td></tr>
 * <tr><td>{@code paged_adamw_8bit}</td><td>{@link PagedAdamW} with {@code optimBits(8)}</td></tr>
 * <tr><td>{@code adamw_8bit}</td><td>{@link AdamW8bit}, as bitsandbytes' {@code AdamW8bit}</td></tr>
 * <tr><td>{@code sgd}</td><td>{@link SGD}, as {@code torch.optim.SGD} (no momentum)</td></tr>
 * </table>
 */
public final class Optimizers {
  private Optimizers() {}

  /** transformers' default {@code learning_rate}. */
  public static final double LEARNING_RATE = 5e-5;
  /** transformers' default {@code weight_decay}. */
  public static final double WEIGHT_DECAY = 0.0;
  /** transformers' default {@code max_grad_norm}. */
  public static final double MAX_GRAD_NORM = 1.0;

  private static final List<String> NAMES = List.of("adamw_torch", "paged_adamw_32bit", "paged_adamw_8bit", "adamw_8bit", "sgd");

  /** The names {@link #byName} knows. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * The preset called {@code optim} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the known names when {@code optim} is not one
   */
  public static OptimizerBuilder<?, ?> byName(String optim) {
    String name = Arguments.notNull("optim", optim).trim().toLowerCase(Locale.ROOT);
    return switch (name) {
      case "adamw_torch" -> adamwTorch();
      case "paged_adamw_32bit" -> pagedAdamw32bit();
      case "paged_adamw_8bit" -> pagedAdamw8bit();
      case "adamw_8bit" -> adamw8bit();
      case "sgd" -> sgd();
      default -> throw new IllegalArgumentException("optim must be one of " + String.join(", ", NAMES) + ": '" + optim + "'");
    };
  }

  public static AdamW.Builder adamwTorch() {
    return transformersDefaults(AdamW.builder());
  }

  public static PagedAdamW.Builder pagedAdamw32bit() {
    return transformersDefaults(PagedAdamW.builder());
  }

  public static PagedAdamW.Builder pagedAdamw8bit() {
    return transformersDefaults(PagedAdamW.builder().optimBits(8));
  }

  public static AdamW8bit.Builder adamw8bit() {
    return transformersDefaults(AdamW8bit.builder());
  }

  public static SGD.Builder sgd() {
    return SGD.builder().learningRate(LEARNING_RATE).weightDecay(WEIGHT_DECAY).maxGradNorm(MAX_GRAD_NORM);
  }

  private static <B extends AdamWBuilder<B, ?>> B transformersDefaults(B builder) {
    return builder.learningRate(LEARNING_RATE).weightDecay(WEIGHT_DECAY).maxGradNorm(MAX_GRAD_NORM).betas(0.9, 0.999).eps(1e-8);
  }
}
