package io.github.lora4j.core.train;

/**
 * A {@link TrainerCallback} threw, and training stopped; the callback's exception is the cause.
 * Every checkpoint on disk is complete, so {@code resumeFrom("latest")} continues from the last one.
 */
public final class TrainerCallbackException extends RuntimeException {
  private final String event;
  private final long step;

  TrainerCallbackException(TrainerCallback callback, String event, long step, RuntimeException cause) {
    super(String.format("callback %s failed in %s at step %d: %s; training stopped (the checkpoints on disk are complete: resumeFrom(\"latest\") continues from the last)",
        callback.getClass().getName(), event, step, cause), cause);
    this.event = event;
    this.step = step;
  }

  /** The method that threw, e.g. {@code "onLog"}. */
  public String event() {
    return event;
  }

  /** The step it threw at (0 in {@code onTrainBegin}). */
  public long step() {
    return step;
  }
}
