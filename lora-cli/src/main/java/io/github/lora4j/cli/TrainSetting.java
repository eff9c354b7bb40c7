package io.github.lora4j.cli;

import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One setting of {@code lora4j train}: the {@link Trainer.Builder} method it calls, its flag, and the
 * keys a config file may name it by. A key matches whatever its case and its {@code _} or {@code -}
 * ({@code loraR}, {@code lora_r}, {@code lora-r}); {@link #keys()} adds the names transformers, TRL and
 * PEFT give the same setting ({@code r}, {@code num_train_epochs}, {@code optim}, ...).
 */
enum TrainSetting {
  BASE_MODEL("baseModel", Type.PATH, "DIR", "Hugging Face model directory: config.json, safetensors weights, tokenizer.json.",
      List.of("--model"), List.of("model", "model_name_or_path"), (b, v) -> b.baseModel((Path) v)),
  DEVICE("device", Type.DEVICE, "DEVICE", "cpu, cuda, cuda:N or auto (default auto: the GPU when one works).",
      List.of(), List.of(), (b, v) -> b.device((Device) v)),
  QUANTIZATION("quantization", Type.QUANTIZATION, "Q", "How the frozen base is stored: none (default); nf4 arrives with QLoRA.",
      List.of(), List.of(), (b, v) -> b.quantization((TrainerConfig.Quantization) v)),
  COMPUTE_TYPE("computeType", Type.DTYPE, "DTYPE", "bf16, fp16 or fp32 for the frozen weights and activations (default bf16 on a GPU, fp32 on the CPU).",
      List.of("--dtype"), List.of("dtype", "torch_dtype"), (b, v) -> b.computeType((DType) v)),
  LORA_R("loraR", Type.INT, "R", "LoRA rank, PEFT r (default 8).",
      List.of(), List.of("r"), (b, v) -> b.loraR((Integer) v)),
  LORA_ALPHA("loraAlpha", Type.DOUBLE, "ALPHA", "PEFT lora_alpha (default 8).",
      List.of(), List.of(), (b, v) -> b.loraAlpha((Double) v)),
  LORA_DROPOUT("loraDropout", Type.DOUBLE, "P", "PEFT lora_dropout (default 0).",
      List.of(), List.of(), (b, v) -> b.loraDropout((Double) v)),
  TARGET_MODULES("targetModules", Type.LIST, "MODULES", "PEFT target_modules, comma-separated: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj or all-linear (default q_proj,v_proj).",
      List.of(), List.of(), (b, v) -> b.targetModules(((List<?>) v).toArray(String[]::new))),
  USE_RS_LORA("useRsLora", Type.BOOLEAN, "BOOL", "PEFT use_rslora: scale by alpha / sqrt(r).",
      List.of("--rslora"), List.of("use_rslora"), (b, v) -> b.useRsLora((Boolean) v)),
  EPOCHS("epochs", Type.DOUBLE, "N", "num_train_epochs (default 3); given alone, it replaces a preset's or config file's max steps.",
      List.of(), List.of("num_train_epochs"), (b, v) -> b.epochs((Double) v)),
  MAX_STEPS("maxSteps", Type.LONG, "N", "max_steps: optimizer steps, overriding epochs (default -1: train for epochs).",
      List.of(), List.of(), (b, v) -> b.maxSteps((Long) v)),
  BATCH_SIZE("batchSize", Type.INT, "N", "per_device_train_batch_size (default 8).",
      List.of(), List.of("per_device_train_batch_size", "train_batch_size"), (b, v) -> b.batchSize((Integer) v)),
  GRADIENT_ACCUMULATION_STEPS("gradientAccumulationSteps", Type.INT, "N", "gradient_accumulation_steps (default 1).",
      List.of(), List.of(), (b, v) -> b.gradientAccumulationSteps((Integer) v)),
  LEARNING_RATE("learningRate", Type.DOUBLE, "LR", "learning_rate, the schedule's peak (default 5e-5).",
      List.of("--lr"), List.of("lr"), (b, v) -> b.learningRate((Double) v)),
  SCHEDULE("schedule", Type.STRING, "TYPE", "lr_scheduler_type: linear (default), cosine, constant, constant_with_warmup, ... (see lora4j schedule).",
      List.of(), List.of("lr_scheduler_type"), (b, v) -> b.schedule((String) v)),
  WARMUP_RATIO("warmupRatio", Type.DOUBLE, "R", "warmup_ratio: warm up over ceil(R x steps); replaces a lower layer's warmup steps.",
      List.of(), List.of(), (b, v) -> b.warmupRatio((Double) v)),
  WARMUP_STEPS("warmupSteps", Type.LONG, "N", "warmup_steps; replaces a lower layer's warmup ratio.",
      List.of(), List.of(), (b, v) -> b.warmupSteps((Long) v)),
  OPTIMIZER("optimizer", Type.STRING, "NAME", "optim: " + String.join(", ", Trainer.OPTIMIZERS) + " (default adamw_torch).",
      List.of("--optim"), List.of("optim"), (b, v) -> b.optimizer((String) v)),
  WEIGHT_DECAY("weightDecay", Type.DOUBLE, "W", "weight_decay (default 0).",
      List.of(), List.of(), (b, v) -> b.weightDecay((Double) v)),
  MAX_GRAD_NORM("maxGradNorm", Type.DOUBLE, "N", "max_grad_norm (default 1.0; 0 = no clipping).",
      List.of(), List.of(), (b, v) -> b.maxGradNorm((Double) v)),
  MAX_SEQUENCE_LENGTH("maxSequenceLength", Type.INT, "TOKENS", "TRL max_length: longer examples are truncated (default 1024).",
      List.of("--max-length"), List.of("max_length", "max_seq_length"), (b, v) -> b.maxSequenceLength((Integer) v)),
  TRAIN_DATA("trainData", Type.PATH, "FILE", "Training data: JSONL, CSV or Parquet with text, prompt/completion or messages records.",
      List.of("--data"), List.of("data", "train_file"), (b, v) -> b.trainData((Path) v)),
  EVAL_DATA("evalData", Type.PATH, "FILE", "Validation data, for --eval-every and --load-best-at-end.",
      List.of(), List.of("eval_file", "validation_file"), (b, v) -> b.evalData((Path) v)),
  LOG_EVERY("logEvery", Type.INT, "STEPS", "logging_steps (default 500).",
      List.of(), List.of("logging_steps"), (b, v) -> b.logEvery((Integer) v)),
  EVAL_EVERY("evalEvery", Type.INT, "STEPS", "eval_steps (default 0: no evaluation during training).",
      List.of(), List.of("eval_steps"), (b, v) -> b.evalEvery((Integer) v)),
  SAVE_EVERY("saveEvery", Type.INT, "STEPS", "save_steps (default 500).",
      List.of(), List.of("save_steps"), (b, v) -> b.saveEvery((Integer) v)),
  SAVE_TOTAL_LIMIT("saveTotalLimit", Type.INT, "K", "save_total_limit: keep the newest K checkpoints plus the best (default: keep all).",
      List.of(), List.of(), (b, v) -> b.saveTotalLimit((Integer) v)),
  OUTPUT_DIR("outputDir", Type.PATH, "DIR", "output_dir; the run writes to DIR/<run name>/ (default trainer_output; the preset's: runs/pricer-demo).",
      List.of(), List.of(), (b, v) -> b.outputDir((Path) v)),
  PROJECT("project", Type.STRING, "NAME", "The run name's prefix (default lora4j).",
      List.of(), List.of(), (b, v) -> b.project((String) v)),
  RUN_NAME("runName", Type.STRING, "NAME", "run_name (default <project>-<yyyy-MM-dd_HH.mm.ss> in UTC).",
      List.of(), List.of(), (b, v) -> b.runName((String) v)),
  SEED("seed", Type.LONG, "N", "seed: LoRA init, dropout and data order (default 42).",
      List.of(), List.of(), (b, v) -> b.seed((Long) v)),
  GRADIENT_CHECKPOINTING("gradientCheckpointing", Type.BOOLEAN, "BOOL", "gradient_checkpointing: recompute each layer in the backward to save memory.",
      List.of(), List.of(), (b, v) -> b.gradientCheckpointing((Boolean) v)),
  LOAD_BEST_AT_END("loadBestAtEnd", Type.BOOLEAN, "BOOL", "load_best_model_at_end: finish with the checkpoint of lowest validation loss.",
      List.of(), List.of("load_best_model_at_end"), (b, v) -> b.loadBestAtEnd((Boolean) v)),
  RESUME_FROM("resumeFrom", Type.RESUME, "CHECKPOINT", "resume_from_checkpoint: a checkpoint directory, or latest (in a config file, true means latest).",
      List.of("--resume"), List.of("resume_from_checkpoint"), (b, v) -> b.resumeFrom((String) v)),
  PRICE_EVAL_EXAMPLES("priceEvalExamples", Type.INT, "N", "For pricer validation data: answers scored with the course's price metrics at each evaluation (default 100; 0 = off).",
      List.of(), List.of(), (b, v) -> b.priceEvalExamples((Integer) v)),
  PUSH_TO_HUB("pushToHub", Type.STRING, "REPO", "push_to_hub with hub_model_id: push the adapter to this Hugging Face Hub model repo (token from HF_TOKEN).",
      List.of(), List.of("hub_model_id"), (b, v) -> b.pushToHub((String) v)),
  HUB_PRIVATE("hubPrivate", Type.BOOLEAN, "BOOL", "hub_private_repo: create the repo private (default true).",
      List.of(), List.of("hub_private_repo"), (b, v) -> b.hubPrivate((Boolean) v)),
  HUB_STRATEGY("hubStrategy", Type.STRING, "STRATEGY", "hub_strategy: every_save (default), checkpoint or end.",
      List.of(), List.of(), (b, v) -> b.hubStrategy((String) v)),
  HUB_TOKEN("hubToken", Type.STRING, "TOKEN", "hub_token (default: the HF_TOKEN environment variable, which keeps it out of the process list).",
      List.of(), List.of(), (b, v) -> b.hubToken((String) v)),
  HUB_ENDPOINT("hubEndpoint", Type.STRING, "URL", "The Hub's address (default HF_ENDPOINT, else https://huggingface.co).",
      List.of(), List.of(), (b, v) -> b.hubEndpoint(java.net.URI.create((String) v)));

  /** How a setting's value is written; a config file may also give numbers and booleans unquoted. */
  enum Type {
    PATH("a path"),
    STRING("a string"),
    INT("an integer"),
    LONG("an integer"),
    DOUBLE("a number"),
    BOOLEAN("true or false"),
    LIST("a list of names, or one comma-separated string"),
    DEVICE("cpu, cuda, cuda:N or auto"),
    DTYPE("bf16, fp16 or fp32"),
    QUANTIZATION("none or nf4"),
    RESUME("a checkpoint directory, latest, or true");

    final String expected;

    Type(String expected) {
      this.expected = expected;
    }
  }

  private final String builderName;
  private final Type type;
  private final String paramLabel;
  private final String description;
  private final List<String> flags;
  private final List<String> keys;
  private final BiConsumer<Trainer.Builder, Object> setter;

  TrainSetting(String builderName, Type type, String paramLabel, String description, List<String> extraFlags, List<String> extraKeys,
      BiConsumer<Trainer.Builder, Object> setter) {
    this.builderName = builderName;
    this.type = type;
    this.paramLabel = paramLabel;
    this.description = description;
    List<String> f = new ArrayList<>();
    f.add("--" + kebab(builderName));
    f.addAll(extraFlags);
    this.flags = List.copyOf(f);
    Set<String> k = new LinkedHashSet<>();
    k.add(builderName);
    k.add(kebab(builderName).replace('-', '_'));
    k.addAll(extraKeys);
    this.keys = List.copyOf(k);
    this.setter = setter;
  }

  /** The {@link Trainer.Builder} method, which is also the config file's camelCase key. */
  String builderName() {
    return builderName;
  }

  Type type() {
    return type;
  }

  String paramLabel() {
    return paramLabel;
  }

  String description() {
    return description;
  }

  /** The flags, the first {@code --} and the builder name in kebab case ({@code --lora-r}). */
  List<String> flags() {
    return flags;
  }

  /** The keys a config file may use: the builder name, its snake_case, and transformers' names. */
  List<String> keys() {
    return keys;
  }

  /** Calls the builder's method with a value of {@link #type()}'s Java type. */
  void apply(Trainer.Builder builder, Object value) {
    setter.accept(builder, value);
  }

  /** A config key as matched: lower case, without '_' and '-'. */
  static String normalize(String key) {
    return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
  }

  /** {@code loraR} as {@code lora-r}. */
  static String kebab(String camel) {
    StringBuilder sb = new StringBuilder();
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) {
        sb.append('-').append(Character.toLowerCase(c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
