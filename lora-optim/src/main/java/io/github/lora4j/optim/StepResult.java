package io.github.lora4j.optim;

/**
 * What one {@link Optimizer#step()} did.
 *
 * @param step the optimizer's {@link Optimizer#stepCount()} after the call
 * @param applied false when the step was skipped for a non-finite gradient
 * @param learningRate the learning rate of the first parameter group for this update
 * @param gradNorm the global gradient norm before clipping (valid until the next step)
 */
public record StepResult(long step, boolean applied, double learningRate, GradNorm gradNorm) {}
