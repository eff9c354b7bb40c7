package io.github.lora4j.optim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Updates parameters from their gradients, one {@link #step()} per optimizer update, with the
 * learning rate its schedule gives for the number of updates made so far.
 *
 * <pre>{@code
 * Optimizer optimizer = Optimizers.adamwTorch().learningRate(Schedules.cosine(2e-4, 1000)).build(groups);
 * for (...) {
 *   ... accumulate gradients into each Parameter's grad ...
 *   StepResult r = optimizer.step();
 *   optimizer.zeroGrad();
 * }
 * }</pre>
 *
 * <p>A step first reduces every gradient to the global norm (one pass), then, unless that norm is
 * NaN or infinite, clips by it ({@code maxGradNorm}) and updates each parameter with one fused
 * backend op. A step whose gradients are not finite is skipped: no parameter or state changes, the
 * skip is counted ({@link #skippedSteps()}) and logged, and a {@link LossScaler} backs off. To know
 * whether to skip, the step reads the squared norm back to the host once; that 4-byte read is the
 * only host synchronisation of a step (turn the check off with {@code skipNonFiniteSteps(false)} to
 * have none; clipping then happens on the device).
 *
 * <p>Optimizers hold device memory for their state until {@link #close()}. Not thread-safe.
 */
public interface Optimizer extends AutoCloseable {

  /** Applies one update from the gradients as they are now, or skips it when they are not finite. */
  StepResult step();

  /** Sets every parameter's gradient to zero (NaN and infinities too). */
  void zeroGrad();

  /** Updates applied so far; skipped steps do not count. The schedule's step is this number. */
  long stepCount();

  /** Steps skipped because a gradient was NaN or infinite. */
  long skippedSteps();

  /** The parameter groups, in the order given to the builder. */
  List<ParameterGroup> parameterGroups();

  /** The learning rate the next update will use for group {@code group}. */
  double learningRate(int group);

  /** Device bytes held for optimizer state (moments, buffers, quantisation scales, the pages of paged state); host-resident state is not counted. */
  long stateBytes();

  /**
   * Writes the full state for resuming: {@code optimizer.safetensors} (every state tensor, named
   * {@code <parameter name>.<state>}, e.g. {@code lora_A.exp_avg}) and {@code optimizer.json} (the
   * kind, hyperparameters, step count, skipped steps, loss scaler and parameter names) in {@code
   * directory}, which is created if needed.
   */
  void saveState(Path directory) throws IOException;

  /**
   * Restores what {@link #saveState} wrote, for an optimizer of the same kind over parameters of the
   * same names and shapes.
   *
   * @throws IllegalArgumentException naming the file and the mismatch when the state does not fit
   */
  void loadState(Path directory) throws IOException;

  /** Frees the optimizer's state. Idempotent. */
  @Override
  void close();
}
