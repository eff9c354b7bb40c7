package io.github.lora4j.core;

import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.train.HubSettings;
import io.github.lora4j.core.train.HubStrategy;
import io.github.lora4j.core.train.TrainerCallback;
import io.github.lora4j.optim.OptimizerBuilder;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.ScheduleType;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.regex.Pattern;

/**
 * Fine-tunes a model with LoRA from application code:
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder()
 *     .baseModel(Path.of("Meta-Llama-3.1-8B")).trainData(Path.of("pricer.jsonl"))
 *     .loraR(32).loraAlpha(64).loraDropout(0.1).targetModules("q_proj", "k_proj", "v_proj", "o_proj")
 *     .batchSize(16).learningRate(1e-4).schedule("cosine").warmupRatio(0.03)
 *     .optimizer("paged_adamw_32bit").maxSequenceLength(182).build();
 * }</pre>
 *
 * Settings and their defaults follow transformers' {@code TrainingArguments}, TRL's {@code
 * SFTConfig} and PEFT's {@code LoraConfig}; see {@link TrainerConfig} for each one's equivalent.
 * The schedule and the optimizer may also be objects of lora-sched and lora-optim, callbacks watch
 * or stop the loop, and the adapter can go to the Hugging Face Hub as training runs:
 *
 * <pre>{@code
 * Trainer.builder() ...
 *     .schedule(steps -> Schedules.polynomial(2e-4, steps, 1e-6, 2.0).withWarmupSteps(100))
 *     .optimizer(Optimizers.pagedAdamw32bit().betas(0.9, 0.95))
 *     .callbacks(new MyEarlyStopping())
 *     .pushToHub("me/pricer-lora")       // token from HF_TOKEN
 *     .build();
 * }</pre>
 */
public final class Trainer {
  /** The optimizer names {@link Builder#optimizer} accepts, as transformers' {@code optim} spells them. */
  public static final List<String> OPTIMIZERS = io.github.lora4j.optim.Optimizers.names();

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private final TrainerConfig config;

  private Trainer(TrainerConfig config) {
    this.config = config;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Trains: loads the model, tokenizer and data, runs the optimizer steps, and writes metrics
   * (metrics.jsonl, TensorBoard events), checkpoints, report.html and the final PEFT adapter under
   * {@code outputDir/runName/}.
   *
   * @throws java.io.IOException when a file cannot be read or written
   */
  public io.github.lora4j.core.train.TrainingResult fit() throws java.io.IOException {
    return io.github.lora4j.core.train.TrainingLoop.run(config);
  }

  /** The validated settings of this trainer. */
  public TrainerConfig config() {
    return config;
  }

  /**
   * Collects the settings of a run. Setters only store (a null is refused at once); {@link #build()}
   * checks everything together and reports every problem in one {@link TrainerConfigException}.
   */
  public static final class Builder {
    private Path baseModel;
    private Device device = Device.auto();
    private TrainerConfig.Quantization quantization = TrainerConfig.Quantization.NONE;
    private DType computeType;
    private int loraR = 8;
    private double loraAlpha = 8;
    private double loraDropout = 0.0;
    private List<String> targetModules = List.of("q_proj", "v_proj");
    private boolean useRsLora;
    private double epochs = 3.0;
    private long maxSteps = -1;
    private int batchSize = 8;
    private int gradientAccumulationSteps = 1;
    private double learningRate = 5e-5;
    private String schedule = "linear";
    private LongFunction<LearningRateSchedule> scheduleFactory;
    private boolean learningRateSet;
    private double warmupRatio = 0.0;
    private long warmupSteps = 0;
    private String optimizer = "adamw_torch";
    private OptimizerBuilder<?, ?> optimizerBuilder;
    private double weightDecay = 0.0;
    private double maxGradNorm = 1.0;
    private int maxSequenceLength = 1024;
    private Path trainData;
    private Path evalData;
    private int logEvery = 500;
    private int evalEvery = 0;
    private int saveEvery = 500;
    private Integer saveTotalLimit;
    private Path outputDir = Path.of("trainer_output");
    private String project = "lora4j";
    private String runName;
    private long seed = 42;
    private boolean gradientCheckpointing;
    private boolean loadBestAtEnd;
    private String resumeFrom;
    private int priceEvalExamples = 100;
    private List<TrainerCallback> callbacks = List.of();
    private String pushToHub;
    private Boolean hubPrivate;
    private String hubStrategy;
    private String hubToken;
    private URI hubEndpoint;
    private Duration hubWaitAtEnd;
    private Map<String, String> environment = System.getenv();

    private Builder() {}

    /** The Hugging Face model directory ({@code config.json} + safetensors + tokenizer). Required. */
    public Builder baseModel(Path dir) {
      this.baseModel = Objects.requireNonNull(dir, "baseModel");
      return this;
    }

    /** {@code cpu}, {@code cuda(i)} or {@code auto} (default). */
    public Builder device(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    public Builder quantization(TrainerConfig.Quantization quantization) {
      this.quantization = Objects.requireNonNull(quantization, "quantization");
      return this;
    }

    /** Dtype of the frozen weights and activations (default: BF16 on a GPU, F32 on the CPU). */
    public Builder computeType(DType dtype) {
      this.computeType = Objects.requireNonNull(dtype, "computeType");
      return this;
    }

    /** LoRA rank (PEFT {@code r}, default 8). */
    public Builder loraR(int r) {
      this.loraR = r;
      return this;
    }

    /** PEFT {@code lora_alpha} (default 8). */
    public Builder loraAlpha(double alpha) {
      this.loraAlpha = alpha;
      return this;
    }

    /** PEFT {@code lora_dropout} (default 0). */
    public Builder loraDropout(double dropout) {
      this.loraDropout = dropout;
      return this;
    }

    /** PEFT {@code target_modules} (default q_proj, v_proj; "all-linear" for all seven). */
    public Builder targetModules(String... names) {
      this.targetModules = List.of(names);
      return this;
    }

    /** PEFT {@code use_rslora}: scale by alpha / sqrt(r). */
    public Builder useRsLora(boolean on) {
      this.useRsLora = on;
      return this;
    }

    /** {@code num_train_epochs} (default 3). */
    public Builder epochs(double epochs) {
      this.epochs = epochs;
      return this;
    }

    /** {@code max_steps}: optimizer steps to run, overriding epochs (default -1 = use epochs). */
    public Builder maxSteps(long steps) {
      this.maxSteps = steps;
      return this;
    }

    /** {@code per_device_train_batch_size} (default 8). */
    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /** {@code gradient_accumulation_steps} (default 1). */
    public Builder gradientAccumulationSteps(int steps) {
      this.gradientAccumulationSteps = steps;
      return this;
    }

    /** {@code learning_rate}, the peak of the schedule (default 5e-5). */
    public Builder learningRate(double lr) {
      this.learningRate = lr;
      this.learningRateSet = true;
      return this;
    }

    /**
     * {@code lr_scheduler_type}: linear (default), cosine, constant, constant_with_warmup, ... (see
     * {@link ScheduleType#hfNames()}), peaking at {@code learningRate} after the warmup. Replaces an
     * earlier {@code schedule(...)}.
     */
    public Builder schedule(String hfName) {
      this.schedule = Objects.requireNonNull(hfName, "schedule");
      this.scheduleFactory = null;
      return this;
    }

    /** {@code lr_scheduler_type} as lora-sched's type, e.g. {@code ScheduleType.COSINE}. Replaces an earlier {@code schedule(...)}. */
    public Builder schedule(ScheduleType type) {
      return schedule(Objects.requireNonNull(type, "schedule").hfName());
    }

    /**
     * Any lora-sched schedule, made when {@code fit()} knows the run's length: the factory gets the
     * number of optimizer steps and returns the schedule, peak rate and warmup included. Use it for
     * what the name form cannot say (a polynomial's power, cosine cycles, warmup_stable_decay's
     * decay). {@code learningRate}, {@code warmupRatio} and {@code warmupSteps} must then be left
     * unset: the schedule carries its own. Replaces an earlier {@code schedule(...)}.
     *
     * <pre>{@code
     * .schedule(steps -> Schedules.cosineWithRestarts(2e-4, steps, 3).withWarmupRatio(0.03))
     * }</pre>
     */
    public Builder schedule(LongFunction<LearningRateSchedule> factory) {
      this.scheduleFactory = Objects.requireNonNull(factory, "schedule");
      this.schedule = "custom";
      return this;
    }

    /** {@code warmup_ratio}: warmup over ceil(ratio * total steps). */
    public Builder warmupRatio(double ratio) {
      this.warmupRatio = ratio;
      return this;
    }

    /** {@code warmup_steps}. */
    public Builder warmupSteps(long steps) {
      this.warmupSteps = steps;
      return this;
    }

    /** {@code optim}: adamw_torch (default), paged_adamw_32bit, paged_adamw_8bit, adamw_8bit, sgd. */
    public Builder optimizer(String name) {
      this.optimizer = Objects.requireNonNull(name, "optimizer");
      this.optimizerBuilder = null;
      return this;
    }

    /**
     * Any lora-optim optimizer, as a configured builder, e.g. {@code
     * Optimizers.adamwTorch().betas(0.9, 0.95).eps(1e-6)}: its own settings (betas, eps, 8-bit
     * state, momentum, ...) are kept, while {@code fit()} sets the trainer's learning-rate schedule,
     * {@code weightDecay} and {@code maxGradNorm} on it, replacing what it had, so that the report
     * and the checkpoints say what was used. Replaces an earlier {@code optimizer(...)}.
     */
    public Builder optimizer(OptimizerBuilder<?, ?> builder) {
      this.optimizerBuilder = Objects.requireNonNull(builder, "optimizer");
      return this;
    }

    /** {@code weight_decay} (default 0). */
    public Builder weightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** {@code max_grad_norm} (default 1.0; 0 disables clipping). */
    public Builder maxGradNorm(double norm) {
      this.maxGradNorm = norm;
      return this;
    }

    /** TRL {@code max_length}: longer examples are truncated and counted (default 1024). */
    public Builder maxSequenceLength(int tokens) {
      this.maxSequenceLength = tokens;
      return this;
    }

    /** The training data: a JSONL, CSV or Parquet file in one of TRL's record formats. Required. */
    public Builder trainData(Path file) {
      this.trainData = Objects.requireNonNull(file, "trainData");
      return this;
    }

    /** Validation data for {@code evalEvery}. */
    public Builder evalData(Path file) {
      this.evalData = Objects.requireNonNull(file, "evalData");
      return this;
    }

    /** {@code logging_steps} (default 500). */
    public Builder logEvery(int steps) {
      this.logEvery = steps;
      return this;
    }

    /** {@code eval_steps} (default 0 = no evaluation during training). */
    public Builder evalEvery(int steps) {
      this.evalEvery = steps;
      return this;
    }

    /** {@code save_steps} (default 500). */
    public Builder saveEvery(int steps) {
      this.saveEvery = steps;
      return this;
    }

    /** {@code save_total_limit}: keep the newest K checkpoints plus the best. */
    public Builder saveTotalLimit(int limit) {
      this.saveTotalLimit = limit;
      return this;
    }

    /** {@code output_dir} (default trainer_output); the run writes to outputDir/runName/. */
    public Builder outputDir(Path dir) {
      this.outputDir = Objects.requireNonNull(dir, "outputDir");
      return this;
    }

    /** The run name's prefix (default lora4j). */
    public Builder project(String project) {
      this.project = Objects.requireNonNull(project, "project");
      return this;
    }

    /** {@code run_name} (default {@code <project>-<yyyy-MM-dd_HH.mm.ss>} in UTC). */
    public Builder runName(String runName) {
      this.runName = Objects.requireNonNull(runName, "runName");
      return this;
    }

    /** {@code seed} (default 42): LoRA init, dropout masks and data order. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** {@code gradient_checkpointing}: recompute each layer in the backward to save memory. */
    public Builder gradientCheckpointing(boolean on) {
      this.gradientCheckpointing = on;
      return this;
    }

    /** {@code load_best_model_at_end}: finish with the checkpoint of lowest validation loss. */
    public Builder loadBestAtEnd(boolean on) {
      this.loadBestAtEnd = on;
      return this;
    }

    /** {@code resume_from_checkpoint}: a checkpoint directory, or "latest" in the run's directory. */
    public Builder resumeFrom(String checkpoint) {
      this.resumeFrom = Objects.requireNonNull(checkpoint, "resumeFrom");
      return this;
    }

    /**
     * When the validation data is pricer data ("... Price is $" prompts with price completions), how
     * many of its examples are answered greedily and scored with the course's price metrics (MAE,
     * RMSLE, hit rate) at each evaluation, logged as {@code eval_price_mae} and so on. Default 100; 0
     * turns it off. No transformers equivalent (the course runs its tester after training).
     */
    public Builder priceEvalExamples(int examples) {
      this.priceEvalExamples = examples;
      return this;
    }

    /**
     * transformers' {@code callbacks}: called in this order at each event of the loop (see {@link
     * TrainerCallback}); replaces earlier ones.
     */
    public Builder callbacks(TrainerCallback... callbacks) {
      Objects.requireNonNull(callbacks, "callbacks");
      for (int i = 0; i < callbacks.length; i++) {
        Objects.requireNonNull(callbacks[i], "callbacks[" + i + "]");
      }
      this.callbacks = List.of(callbacks);
      return this;
    }

    /**
     * transformers' {@code push_to_hub} with {@code hub_model_id}: pushes the adapter (PEFT's two
     * files and a README model card) to this Hugging Face Hub model repository, "namespace/name",
     * created if missing, at each checkpoint and at the end (see {@link #hubStrategy}). Uploads run
     * in the background, are retried, and never stop training; {@link
     * io.github.lora4j.core.train.TrainingResult#hub()} says how they went. The token comes from
     * {@code HF_TOKEN} unless {@link #hubToken} gives one.
     */
    public Builder pushToHub(String repoId) {
      this.pushToHub = Objects.requireNonNull(repoId, "pushToHub");
      return this;
    }

    /** {@code hub_private_repo}: whether a repository the run creates is private (default true). */
    public Builder hubPrivate(boolean on) {
      this.hubPrivate = on;
      return this;
    }

    /** {@code hub_strategy}: end, every_save (default) or checkpoint; see {@link HubStrategy}. */
    public Builder hubStrategy(String hfName) {
      this.hubStrategy = Objects.requireNonNull(hfName, "hubStrategy");
      return this;
    }

    /** {@code hub_strategy} as an enum. */
    public Builder hubStrategy(HubStrategy strategy) {
      return hubStrategy(Objects.requireNonNull(strategy, "hubStrategy").hfName());
    }

    /** {@code hub_token}: the token, instead of {@code HF_TOKEN}; never logged or reported. */
    public Builder hubToken(String token) {
      this.hubToken = Objects.requireNonNull(token, "hubToken");
      return this;
    }

    /** The Hub's URL, instead of {@code HF_ENDPOINT} or https://huggingface.co: a mirror or a test server. */
    public Builder hubEndpoint(URI endpoint) {
      this.hubEndpoint = Objects.requireNonNull(endpoint, "hubEndpoint");
      return this;
    }

    /**
     * How long {@code fit()} waits at the end for uploads still running (default 10 minutes); after
     * that they go on in the background while the JVM lives, and the result counts them as unfinished.
     */
    public Builder hubWaitAtEnd(Duration wait) {
      this.hubWaitAtEnd = Objects.requireNonNull(wait, "hubWaitAtEnd");
      return this;
    }

    /** The environment {@code HF_TOKEN} and {@code HF_ENDPOINT} are read from (tests). */
    Builder environment(Map<String, String> environment) {
      this.environment = Map.copyOf(environment);
      return this;
    }

    /** Checks every setting and returns the trainer, or throws one exception listing every problem. */
    public Trainer build() {
      List<String> problems = new ArrayList<>();
      if (baseModel == null) {
        problems.add("baseModel is required: a Hugging Face model directory");
      } else if (!Files.isRegularFile(baseModel.resolve(ModelConfig.CONFIG_FILE))) {
        problems.add("baseModel has no " + ModelConfig.CONFIG_FILE + ": " + baseModel);
      }
      if (quantization == TrainerConfig.Quantization.NF4) {
        problems.add("quantization NF4 is not available yet (the QLoRA issue brings it); use NONE: " + quantization);
      }
      if (computeType != null && !computeType.isFloatingPoint()) {
        problems.add("computeType must be F32, BF16 or F16: " + computeType);
      }
      if (loraR <= 0) {
        problems.add("loraR must be positive: " + loraR);
      }
      if (!(loraAlpha > 0) || Double.isInfinite(loraAlpha)) {
        problems.add("loraAlpha must be positive and finite: " + loraAlpha);
      }
      if (!(loraDropout >= 0 && loraDropout < 1)) {
        problems.add("loraDropout must be in [0, 1): " + loraDropout);
      }
      Set<TargetModule> targets = Set.of();
      try {
        targets = TargetModule.parse(targetModules);
        if (targets.isEmpty()) {
          problems.add("targetModules must name at least one module: " + targetModules);
        }
      } catch (IllegalArgumentException e) {
        problems.add("targetModules: " + e.getMessage());
      }
      if (maxSteps == 0 || maxSteps < -1) {
        problems.add("maxSteps must be positive, or -1 to train for epochs: " + maxSteps);
      }
      if (maxSteps == -1 && !(epochs > 0 && Double.isFinite(epochs))) {
        problems.add("epochs must be positive and finite when maxSteps is not set: " + epochs);
      }
      if (batchSize <= 0) {
        problems.add("batchSize must be positive: " + batchSize);
      }
      if (gradientAccumulationSteps <= 0) {
        problems.add("gradientAccumulationSteps must be positive: " + gradientAccumulationSteps);
      }
      if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
        problems.add("learningRate must be positive and finite: " + learningRate);
      }
      if (scheduleFactory == null) {
        try {
          ScheduleType.fromName(schedule);
        } catch (IllegalArgumentException e) {
          problems.add("schedule: " + e.getMessage());
        }
      } else {
        if (learningRateSet) {
          problems.add("learningRate is set (" + learningRate + ") but schedule(factory) makes the schedule, whose own peak rate is used; set the rate in the factory");
        }
        if (warmupRatio != 0 || warmupSteps != 0) {
          problems.add("warmupRatio/warmupSteps are set (" + warmupRatio + ", " + warmupSteps
              + ") but schedule(factory) makes the schedule, whose own warmup is used; add it in the factory (withWarmupRatio, withWarmupSteps)");
        }
      }
      if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
        problems.add("warmupRatio must be in [0, 1]: " + warmupRatio);
      }
      if (warmupSteps < 0) {
        problems.add("warmupSteps must be >= 0: " + warmupSteps);
      }
      if (warmupRatio > 0 && warmupSteps > 0) {
        problems.add("warmupRatio and warmupSteps are both set (" + warmupRatio + ", " + warmupSteps + "); set one");
      }
      if (optimizerBuilder == null && !OPTIMIZERS.contains(optimizer.toLowerCase(Locale.ROOT))) {
        problems.add("optimizer must be one of " + String.join(", ", OPTIMIZERS) + ": " + optimizer);
      }
      if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
        problems.add("weightDecay must be >= 0 and finite: " + weightDecay);
      }
      if (!(maxGradNorm >= 0) || Double.isInfinite(maxGradNorm)) {
        problems.add("maxGradNorm must be >= 0 and finite (0 = no clipping): " + maxGradNorm);
      }
      if (maxSequenceLength <= 1) {
        problems.add("maxSequenceLength must be at least 2: " + maxSequenceLength);
      }
      if (trainData == null) {
        problems.add("trainData is required: a JSONL, CSV or Parquet file");
      } else if (!Files.isRegularFile(trainData)) {
        problems.add("trainData does not exist: " + trainData);
      }
      if (evalData != null && !Files.isRegularFile(evalData)) {
        problems.add("evalData does not exist: " + evalData);
      }
      if (evalEvery < 0) {
        problems.add("evalEvery must be >= 0 (0 = no evaluation): " + evalEvery);
      } else if (evalEvery > 0 && evalData == null) {
        problems.add("evalEvery is " + evalEvery + " but no evalData is set");
      }
      if (loadBestAtEnd && evalData == null) {
        problems.add("loadBestAtEnd needs evalData: the best checkpoint is chosen by validation loss");
      }
      if (logEvery <= 0) {
        problems.add("logEvery must be positive: " + logEvery);
      }
      if (saveEvery <= 0) {
        problems.add("saveEvery must be positive: " + saveEvery);
      }
      if (saveTotalLimit != null && saveTotalLimit <= 0) {
        problems.add("saveTotalLimit must be positive: " + saveTotalLimit);
      }
      if (!NAME.matcher(project).matches()) {
        problems.add("project must be letters, digits, '.', '_' or '-' (it names a directory): '" + project + "'");
      }
      if (runName != null && !NAME.matcher(runName).matches()) {
        problems.add("runName must be letters, digits, '.', '_' or '-' (it names a directory): '" + runName + "'");
      }
      if (resumeFrom != null && !resumeFrom.equals("latest") && !Files.isDirectory(Path.of(resumeFrom))) {
        problems.add("resumeFrom must be \"latest\" or a checkpoint directory: " + resumeFrom);
      }
      if (priceEvalExamples < 0) {
        problems.add("priceEvalExamples must be >= 0 (0 = off): " + priceEvalExamples);
      }
      Optional<HubSettings> hub = hubSettings(problems);
      if (!problems.isEmpty()) {
        throw new TrainerConfigException(problems);
      }
      return new Trainer(
          new TrainerConfig(
              baseModel, device, quantization, Optional.ofNullable(computeType), loraR, loraAlpha, loraDropout, targets, useRsLora, epochs, maxSteps,
              batchSize, gradientAccumulationSteps, learningRate, schedule, Optional.ofNullable(scheduleFactory), warmupRatio, warmupSteps,
              optimizerBuilder == null ? optimizer.toLowerCase(Locale.ROOT) : optimizerName(optimizerBuilder), Optional.ofNullable(optimizerBuilder), weightDecay,
              maxGradNorm, maxSequenceLength, trainData, Optional.ofNullable(evalData), logEvery, evalEvery, saveEvery, Optional.ofNullable(saveTotalLimit),
              outputDir, project, Optional.ofNullable(runName), seed, gradientCheckpointing, loadBestAtEnd, Optional.ofNullable(resumeFrom),
              priceEvalExamples, callbacks, hub));
    }

    /** The hub settings, or the problems with them added to {@code problems}. */
    private Optional<HubSettings> hubSettings(List<String> problems) {
      if (pushToHub == null) {
        var set = new ArrayList<String>();
        if (hubPrivate != null) {
          set.add("hubPrivate");
        }
        if (hubStrategy != null) {
          set.add("hubStrategy");
        }
        if (hubToken != null) {
          set.add("hubToken");
        }
        if (hubEndpoint != null) {
          set.add("hubEndpoint");
        }
        if (hubWaitAtEnd != null) {
          set.add("hubWaitAtEnd");
        }
        if (!set.isEmpty()) {
          problems.add(String.join(", ", set) + " set but pushToHub is not: name the repository to push to");
        }
        return Optional.empty();
      }
      int before = problems.size();
      try {
        HubSettings.checkRepoId(pushToHub);
      } catch (IllegalArgumentException e) {
        problems.add("pushToHub: " + e.getMessage());
      }
      String token = hubToken != null ? hubToken : environment.get(HubSettings.TOKEN_ENV);
      if (token == null || token.isBlank()) {
        problems.add("pushToHub needs a token with write access: set " + HubSettings.TOKEN_ENV
            + " (or hubToken(...)); create one at https://huggingface.co/settings/tokens");
      }
      URI endpoint = HubSettings.DEFAULT_ENDPOINT;
      String fromEnv = environment.get(HubSettings.ENDPOINT_ENV);
      try {
        if (hubEndpoint != null) {
          endpoint = HubSettings.checkEndpoint("hubEndpoint", hubEndpoint);
        } else if (fromEnv != null && !fromEnv.isBlank()) {
          endpoint = HubSettings.checkEndpoint(HubSettings.ENDPOINT_ENV, URI.create(fromEnv.strip()));
        }
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage().startsWith(HubSettings.ENDPOINT_ENV) || e.getMessage().startsWith("hubEndpoint") ? e.getMessage()
            : HubSettings.ENDPOINT_ENV + " must be an http(s) URL: " + fromEnv);
      }
      HubStrategy strategy = HubStrategy.EVERY_SAVE;
      if (hubStrategy != null) {
        try {
          strategy = HubStrategy.fromName(hubStrategy);
        } catch (IllegalArgumentException e) {
          problems.add("hubStrategy: " + e.getMessage());
        }
      }
      Duration wait = hubWaitAtEnd == null ? HubSettings.DEFAULT_WAIT_AT_END : hubWaitAtEnd;
      if (wait.isNegative()) {
        problems.add("hubWaitAtEnd must be >= 0: " + wait);
      }
      if (problems.size() > before) {
        return Optional.empty();
      }
      return Optional.of(new HubSettings(pushToHub, hubPrivate == null || hubPrivate, strategy, endpoint, token, wait));
    }

    /** The optimizer a builder makes, e.g. "PagedAdamW" for {@code PagedAdamW.Builder}. */
    private static String optimizerName(OptimizerBuilder<?, ?> builder) {
      Class<?> built = builder.getClass().getEnclosingClass();
      return (built != null ? built : builder.getClass()).getSimpleName();
    }
  }
}
