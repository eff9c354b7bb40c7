package io.github.lora4j.core.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@link io.github.lora4j.core.Trainer#fit()} did.
 *
 * @param runDir {@code outputDir/runName}, holding metrics, checkpoints, the report and the adapter
 * @param adapterDir the final adapter in PEFT's format (the best checkpoint's with loadBestAtEnd)
 * @param steps optimizer steps applied
 * @param skippedSteps steps skipped because a gradient was NaN or infinite
 * @param finalLoss the token-mean training loss of the last step
 * @param bestEvalLoss the lowest validation loss seen, if evaluated
 * @param bestCheckpoint the checkpoint with that loss, if one was saved at an evaluated step
 * @param seconds wall time of the loop
 * @param tokensPerSecond training tokens (not padding) per second in this run: evaluations and
 *     checkpoint saves left out, and a resumed run counts only its own steps
 * @param peakDeviceBytes the backend's peak memory
 * @param hub what the pushes to the Hugging Face Hub did, when {@code pushToHub} is set
 * @param stopReason why a callback stopped training before its last step, if one did
 */
public record TrainingResult(
    Path runDir,
    Path adapterDir,
    long steps,
    long skippedSteps,
    double finalLoss,
    Optional<Double> bestEvalLoss,
    Optional<Path> bestCheckpoint,
    double seconds,
    double tokensPerSecond,
    long peakDeviceBytes,
    Optional<HubUploads> hub,
    Optional<String> stopReason) {}
