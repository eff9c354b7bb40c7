package io.github.lora4j.core;

import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.core.train.HubSettings;
import io.github.lora4j.core.train.TrainerCallback;
import io.github.lora4j.optim.OptimizerBuilder;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * Every setting of a training run, validated, with the defaults of transformers' {@code
 * TrainingArguments}, TRL's {@code SFTConfig} and PEFT's {@code LoraConfig} where they have one.
 * Made by {@link Trainer.Builder#build()}; each component's javadoc names its transformers
 * equivalent.
 *
 * @param baseModel Hugging Face model directory ({@code model_name_or_path})
 * @param device where to train ({@code auto}: the GPU when one works)
 * @param quantization how the frozen base is stored ({@code NONE} = bf16 on the GPU, fp32 on the CPU)
 * @param computeType dtype of frozen weights and activations; empty = BF16 on a GPU, F32 on the CPU
 * @param loraR PEFT {@code r}
 * @param loraAlpha PEFT {@code lora_alpha}
 * @param loraDropout PEFT {@code lora_dropout}
 * @param targetModules PEFT {@code target_modules}
 * @param useRsLora PEFT {@code use_rslora}
 * @param epochs {@code num_train_epochs}
 * @param maxSteps {@code max_steps}; when positive it overrides epochs
 * @param batchSize {@code per_device_train_batch_size}
 * @param gradientAccumulationSteps {@code gradient_accumulation_steps}
 * @param learningRate {@code learning_rate}
 * @param schedule {@code lr_scheduler_type}; "custom" with a {@code scheduleFactory}
 * @param scheduleFactory the schedule for a run of n optimizer steps, when given as an object
 *     ({@link Trainer.Builder#schedule(java.util.function.LongFunction)}); it then carries its own
 *     peak rate and warmup, and {@code learningRate}, {@code warmupRatio} and {@code warmupSteps}
 *     are unused
 * @param warmupRatio {@code warmup_ratio} (transformers 5: a float {@code warmup_steps} below 1)
 * @param warmupSteps {@code warmup_steps}
 * @param optimizer {@code optim}; with an {@code optimizerBuilder}, the optimizer class it builds
 * @param optimizerBuilder the optimizer when given as a configured lora-optim builder ({@link
 *     Trainer.Builder#optimizer(OptimizerBuilder)}); the trainer sets its schedule, {@code
 *     weightDecay} and {@code maxGradNorm} on it at {@code fit()}
 * @param weightDecay {@code weight_decay}
 * @param maxGradNorm {@code max_grad_norm}; 0 disables clipping
 * @param maxSequenceLength TRL {@code max_length}
 * @param trainData the training file (JSONL, CSV or Parquet)
 * @param evalData the validation file, if any
 * @param logEvery {@code logging_steps}
 * @param evalEvery {@code eval_steps}; 0 = no evaluation during training
 * @param saveEvery {@code save_steps}
 * @param saveTotalLimit {@code save_total_limit}; empty = keep every checkpoint
 * @param outputDir {@code output_dir}
 * @param project the run name's prefix
 * @param runName {@code run_name}; empty = {@code <project>-<yyyy-MM-dd_HH.mm.ss>} in UTC
 * @param seed {@code seed}
 * @param gradientCheckpointing {@code gradient_checkpointing}
 * @param loadBestAtEnd {@code load_best_model_at_end}
 * @param resumeFrom {@code resume_from_checkpoint}: a checkpoint directory or "latest"
 * @param priceEvalExamples when the validation data is pricer data ("... Price is $" prompts, price
 *     completions), how many of its examples get a greedy answer scored with the course's price
 *     metrics at each evaluation; 0 = none (lora4j's own; transformers has no equivalent)
 * @param callbacks transformers' {@code callbacks}, called in this order
 * @param hub where to push the adapter ({@code push_to_hub}, {@code hub_model_id}, ...); empty =
 *     no pushes
 */
public record TrainerConfig(
    Path baseModel,
    Device device,
    Quantization quantization,
    Optional<DType> computeType,
    int loraR,
    double loraAlpha,
    double loraDropout,
    Set<TargetModule> targetModules,
    boolean useRsLora,
    double epochs,
    long maxSteps,
    int batchSize,
    int gradientAccumulationSteps,
    double learningRate,
    String schedule,
    Optional<LongFunction<LearningRateSchedule>> scheduleFactory,
    double warmupRatio,
    long warmupSteps,
    String optimizer,
    Optional<OptimizerBuilder<?, ?>> optimizerBuilder,
    double weightDecay,
    double maxGradNorm,
    int maxSequenceLength,
    Path trainData,
    Optional<Path> evalData,
    int logEvery,
    int evalEvery,
    int saveEvery,
    Optional<Integer> saveTotalLimit,
    Path outputDir,
    String project,
    Optional<String> runName,
    long seed,
    boolean gradientCheckpointing,
    boolean loadBestAtEnd,
    Optional<String> resumeFrom,
    int priceEvalExamples,
    List<TrainerCallback> callbacks,
    Optional<HubSettings> hub) {

  public TrainerConfig {
    targetModules = Set.copyOf(targetModules);
    callbacks = List.copyOf(callbacks);
  }

  /** How the frozen base weights are stored. */
  public enum Quantization {
    /** Weights in the compute dtype. */
    NONE,
    /** 4-bit NormalFloat with double quantization, as QLoRA (bitsandbytes' nf4); not available yet. */
    NF4
  }

  /** The names of the settings, in the order the builder documents them (for reports). */
  static List<String> names() {
    return List.of(TrainerConfig.class.getRecordComponents()).stream().map(c -> c.getName()).toList();
  }
}
