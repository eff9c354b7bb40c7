package io.github.lora4j.core.train;

import java.util.Arrays;
import java.util.List;

/**
 * When a run pushes its adapter to the Hugging Face Hub, named as transformers' {@code hub_strategy}
 * values. Every strategy pushes the final adapter when training ends.
 *
 * <pre>{@code
 * HubStrategy.fromName("checkpoint")  // CHECKPOINT
 * HubStrategy.EVERY_SAVE.hfName()     // "every_save"
 * }</pre>
 */
public enum HubStrategy {
  /** Only the final adapter, when training ends. */
  END("end"),
  /** The adapter at every checkpoint, and the final one (transformers' default). */
  EVERY_SAVE("every_save"),
  /**
   * As {@link #EVERY_SAVE}, and the whole latest checkpoint (optimizer and trainer state included)
   * in the repository's {@code last-checkpoint/} folder, so that a run can be resumed from the Hub.
   */
  CHECKPOINT("checkpoint");

  /** The folder {@link #CHECKPOINT} pushes the latest checkpoint to, as transformers names it. */
  public static final String LAST_CHECKPOINT = "last-checkpoint";

  private final String hfName;

  HubStrategy(String hfName) {
    this.hfName = hfName;
  }

  /** The name transformers uses, e.g. {@code "every_save"}. */
  public String hfName() {
    return hfName;
  }

  /** Every name {@link #fromName} accepts. */
  public static List<String> hfNames() {
    return Arrays.stream(values()).map(HubStrategy::hfName).toList();
  }

  /**
   * The strategy transformers calls {@code name}.
   *
   * @throws IllegalArgumentException for another name; the message lists the known ones
   */
  public static HubStrategy fromName(String name) {
    for (HubStrategy s : values()) {
      if (s.hfName.equals(name)) {
        return s;
      }
    }
    String why = "all_checkpoints".equals(name)
        ? " (transformers' all_checkpoints, a folder per checkpoint on the Hub, is not implemented)" : "";
    throw new IllegalArgumentException("unknown hub strategy '" + name + "'" + why + "; known: " + String.join(", ", hfNames()));
  }

  @Override
  public String toString() {
    return hfName;
  }
}
