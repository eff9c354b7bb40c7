package io.github.lora4j.sched;

/** Placeholder replaced by the lora-sched work. */
public interface LearningRateSchedule {
  double learningRate(long step);
}
