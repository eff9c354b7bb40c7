package io.github.lora4j.sched;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The schedule kinds lora4j implements, named as transformers' {@code lr_scheduler_type} values.
 *
 * <pre>{@code
 * ScheduleType.fromName("cosine_with_restarts")  // COSINE_WITH_RESTARTS
 * ScheduleType.COSINE.hfName()                   // "cosine"
 * }</pre>
 */
public enum ScheduleType {
  CONSTANT("constant"),
  CONSTANT_WITH_WARMUP("constant_with_warmup"),
  LINEAR("linear"),
  COSINE("cosine"),
  COSINE_WITH_RESTARTS("cosine_with_restarts"),
  POLYNOMIAL("polynomial"),
  INVERSE_SQRT("inverse_sqrt"),
  WARMUP_STABLE_DECAY("warmup_stable_decay"),
  COSINE_WITH_MIN_LR("cosine_with_min_lr");

  private final String hfName;

  ScheduleType(String hfName) {
    this.hfName = hfName;
  }

  /** The name transformers uses for this kind, e.g. {@code "cosine_with_restarts"}. */
  public String hfName() {
    return hfName;
  }

  /** Every transformers name lora4j knows, in declaration order. */
  public static List<String> hfNames() {
    return Arrays.stream(values()).map(ScheduleType::hfName).toList();
  }

  /**
   * The kind transformers calls {@code name}.
   *
   * @throws IllegalArgumentException for a name lora4j does not implement; the message lists the known names
   */
  public static ScheduleType fromName(String name) {
    if (name == null) {
      throw new IllegalArgumentException("schedule type must not be null; known: " + String.join(", ", hfNames()));
    }
    for (ScheduleType type : values()) {
      if (type.hfName.equals(name)) {
        return type;
      }
    }
    // Say why for the transformers names lora4j leaves out.
    String why =
        switch (name.toLowerCase(Locale.ROOT)) {
          case "reduce_lr_on_plateau", "greedy" ->
              " (transformers' " + name + " follows a training metric, not the step; lora4j does not implement it)";
          case "cosine_warmup_with_min_lr" ->
              " (transformers' cosine_warmup_with_min_lr shifts the step by one; lora4j does not implement it)";
          default -> "";
        };
    throw new IllegalArgumentException(
        "unknown schedule type '" + name + "'" + why + "; known: " + String.join(", ", hfNames()));
  }

  @Override
  public String toString() {
    return hfName;
  }
}
