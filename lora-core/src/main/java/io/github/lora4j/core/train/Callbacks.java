package io.github.lora4j.core.train;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** Calls the run's callbacks in order, turning an exception from one into a {@link TrainerCallbackException}. */
final class Callbacks {
  private final List<TrainerCallback> callbacks;
  final TrainerControl control = new TrainerControl();

  Callbacks(List<TrainerCallback> callbacks) {
    this.callbacks = List.copyOf(callbacks);
  }

  void onTrainBegin(TrainingStart start) {
    each("onTrainBegin", 0, cb -> cb.onTrainBegin(start, control));
  }

  void onStepEnd(long step) {
    each("onStepEnd", step, cb -> cb.onStepEnd(step, control));
  }

  void onLog(StepMetrics m) {
    each("onLog", m.step(), cb -> cb.onLog(m, control));
  }

  void onEvaluate(StepMetrics m) {
    each("onEvaluate", m.step(), cb -> cb.onEvaluate(m, control));
  }

  void onSave(long step, Path checkpoint) {
    each("onSave", step, cb -> cb.onSave(step, checkpoint, control));
  }

  void onTrainEnd(TrainingResult result) {
    each("onTrainEnd", result.steps(), cb -> cb.onTrainEnd(result));
  }

  private void each(String event, long step, Consumer<TrainerCallback> call) {
    for (TrainerCallback cb : callbacks) {
      try {
        call.accept(cb);
      } catch (RuntimeException e) {
        throw new TrainerCallbackException(cb, event, step, e);
      }
    }
  }
}
