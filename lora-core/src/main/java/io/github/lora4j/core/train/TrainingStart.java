package io.github.lora4j.core.train;

import io.github.lora4j.core.TrainerConfig;
import java.nio.file.Path;

/**
 * What {@link TrainerCallback#onTrainBegin} learns about the run.
 *
 * @param config the run's settings
 * @param runDir {@code outputDir/runName}, where the run writes
 * @param firstStep the first step to run: 1, or the step after a resumed checkpoint
 * @param totalSteps the run's last step ({@code maxSteps}, or the epochs' steps)
 */
public record TrainingStart(TrainerConfig config, Path runDir, long firstStep, long totalSteps) {}
