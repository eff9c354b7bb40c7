package io.github.lora4j.core.train;

import java.util.Objects;
import java.util.Optional;

/**
 * What the callbacks ask of the training loop: transformers' {@code TrainerControl}. One instance
 * lives for the whole run and is passed to every {@link TrainerCallback} method; a request stays
 * set once made.
 */
public final class TrainerControl {
  private volatile String stopReason;

  /**
   * Asks the loop to make the current step the last one (transformers' {@code
   * should_training_stop}); the first reason given is kept.
   *
   * @param reason said in the log and in {@link TrainingResult#stopReason()}
   */
  public void stopTraining(String reason) {
    Objects.requireNonNull(reason, "reason");
    if (stopReason == null) {
      stopReason = reason;
    }
  }

  /** Whether a callback asked training to stop. */
  public boolean shouldStop() {
    return stopReason != null;
  }

  /** The reason the first stop request gave. */
  public Optional<String> stopReason() {
    return Optional.ofNullable(stopReason);
  }

  @Override
  public String toString() {
    return stopReason == null ? "TrainerControl[running]" : "TrainerControl[stop: " + stopReason + "]";
  }
}
