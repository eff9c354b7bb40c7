package io.github.lora4j.core.train;

import java.nio.file.Path;

/**
 * Hooks into the training loop, as transformers' {@code TrainerCallback}: every method does nothing
 * unless overridden, and each is called on the training thread, in the order the callbacks were
 * given to {@link io.github.lora4j.core.Trainer.Builder#callbacks}. A callback stops training early
 * through {@link TrainerControl#stopTraining(String)} (transformers' {@code
 * control.should_training_stop = True}).
 *
 * <pre>{@code
 * TrainerCallback stopWhenGoodEnough = new TrainerCallback() {
 *   public void onEvaluate(StepMetrics m, TrainerControl control) {
 *     if (m.evalLoss().orElse(Double.MAX_VALUE) < 0.5) control.stopTraining("eval_loss below 0.5");
 *   }
 * };
 * }</pre>
 *
 * <p>In one optimizer step the events come in this order: {@link #onStepEnd}, then at a logged
 * step {@link #onLog} and, when the step was evaluated, {@link #onEvaluate}, then at a checkpoint
 * {@link #onSave}. A stop requested in any of them makes the current step the last: it is logged,
 * evaluated (with {@code evalEvery}) and saved as the last step of a run is, then the final adapter
 * and the report are written and {@link #onTrainEnd} is called.
 *
 * <p>A callback that throws stops training at once: {@code fit()} throws a {@link
 * TrainerCallbackException} with the callback's exception as its cause. Callbacks run outside the
 * writing of a checkpoint, so nothing is left half-written: every checkpoint on disk is complete, and
 * {@code resumeFrom("latest")} continues from the last one. No final adapter or report is written for
 * such a run. Keep callbacks quick: the step waits for them.
 */
public interface TrainerCallback {

  /** Before the first step (of a resumed run: the first step after its checkpoint). */
  default void onTrainBegin(TrainingStart start, TrainerControl control) {}

  /**
   * After every optimizer step; cheap, since it reads nothing back from the device: the step's
   * metrics come to {@link #onLog} at logged steps.
   *
   * @param step the optimizer step just applied, from 1
   */
  default void onStepEnd(long step, TrainerControl control) {}

  /** At each logged step ({@code logEvery}), with what was measured; the sinks have it already. */
  default void onLog(StepMetrics metrics, TrainerControl control) {}

  /** After an evaluation; {@code metrics.evalMetrics()} holds its results ({@code eval_loss}, ...). */
  default void onEvaluate(StepMetrics metrics, TrainerControl control) {}

  /**
   * After a checkpoint is complete on disk.
   *
   * @param checkpoint its directory, {@code runDir/checkpoint-<step>}
   */
  default void onSave(long step, Path checkpoint, TrainerControl control) {}

  /** When training has ended and the final adapter and report are written. */
  default void onTrainEnd(TrainingResult result) {}
}
