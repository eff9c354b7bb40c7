package io.github.lora4j.cli;

import com.google.gson.JsonParser;
import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.core.demo.PricerDemo;
import io.github.lora4j.core.generate.PriceEvaluation;
import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.PricedExample;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code lora4j train}: a LoRA fine-tune with {@link Trainer}, its settings from flags, a YAML or JSON
 * config file, or the embedded {@code pricer-demo} preset. The setting flags are made from {@link
 * TrainSetting}, so every builder setting has one; {@link TrainSettings} turns flags and files into
 * builder calls.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    modelTransformer = TrainCommand.SettingFlags.class,
    description = {
      "Fine-tune a model with LoRA: the settings of Trainer.builder() as flags and/or a config file (flags win).",
      "Config keys are the builder's names in camelCase or snake_case, or transformers' (r, num_train_epochs,"
          + " per_device_train_batch_size, lr_scheduler_type, optim, max_length, ...): see docs/cli.md."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:trained; the adapter and report.html are in the run directory",
      "1:a file could not be read or written",
      "2:bad settings: unknown key, wrong type, out-of-range value, missing file (nothing is written)"},
    footer = {
      "",
      "Examples:",
      "  lora4j train --preset pricer-demo",
      "  lora4j train --config examples/pricer-8b.yaml --model Meta-Llama-3.1-8B --data pricer.jsonl --device cuda",
      "  lora4j train --model DIR --data train.jsonl --lora-r 32 --lora-alpha 64 --target-modules q_proj,k_proj,v_proj,o_proj"
    })
final class TrainCommand implements Callable<Integer> {
  /** Where the preset writes its inputs and runs, unless --output-dir says otherwise. */
  static final Path DEMO_OUTPUT_DIR = Path.of("runs", PricerDemo.NAME);

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML (.yaml, .yml) or JSON (.json) file of settings; flags override it.")
  Path config;

  @Option(names = "--preset", paramLabel = "NAME", completionCandidates = Presets.class,
      description = "Start from an embedded run: ${COMPLETION-CANDIDATES}, a tiny Llama learning synthetic prices on the CPU in"
          + " under a minute. It writes its model and data under the output dir (default runs/pricer-demo); the config file"
          + " and flags override its settings. With --model, the course's settings for a real model (r=32 on q/k/v/o, lr 1e-4,"
          + " paged AdamW, max length 182) instead of the tiny model's.")
  String preset;

  @Option(names = "--dry-run", description = "Check the settings and print them; train nothing, write nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    TrainSettings settings = settings();
    Optional<PricerDemo> demo = demo(settings.has(TrainSetting.BASE_MODEL));
    Trainer.Builder builder = Trainer.builder();
    Path demoDir = settings.get(TrainSetting.OUTPUT_DIR).map(Path.class::cast).orElse(DEMO_OUTPUT_DIR);
    List<TrainSetting> toPrepare = List.of();
    if (demo.isPresent()) {
      // The tiny model's settings (a high learning rate, every module) would harm a real model: one
      // given with --model gets the course's seed workload instead.
      builder = (settings.has(TrainSetting.BASE_MODEL) ? PricerDemo.courseTrainer() : demo.get().trainer()).outputDir(demoDir);
      if (settings.has(TrainSetting.BASE_MODEL) && !settings.has(TrainSetting.TRAIN_DATA)) {
        // The preset writes validation listings too: evaluate on them (loss and price metrics).
        builder.evalEvery(COURSE_EVAL_EVERY);
      }
      toPrepare = presetInputs(builder, settings, demoDir);
    }
    // Every problem with the settings shows here, before anything is written; only the preset's
    // inputs may be missing yet.
    Optional<Trainer> checked = settings.build(builder, toPrepare);
    if (dryRun) {
      if (!toPrepare.isEmpty()) {
        out.printf(Locale.ROOT, "the settings check out; %s would write %s under %s before training%n", PricerDemo.NAME,
            toPrepare.stream().map(TrainSetting::builderName).collect(Collectors.joining(", ")), demoDir);
      }
      checked.ifPresent(t -> printSettings(out, t.config()));
      out.flush();
      return 0;
    }
    Optional<PricerDemo.DemoData> demoData = Optional.empty();
    if (demo.isPresent()) {
      oneCpuThread(out);
      demoData = prepare(out, demo.get(), settings, demoDir);
    }
    Trainer trainer = toPrepare.isEmpty() ? checked.orElseThrow() : settings.build(builder, List.of()).orElseThrow();
    printSettings(out, trainer.config());
    out.flush();
    // The preset shows what training bought: the course's price metrics on the validation listings,
    // answered greedily by the base model alone and then with the trained adapter.
    Optional<PriceEvaluation> prices = demoData.flatMap(d -> PriceEvaluation.of(d.evalExamples().stream().map(PricedExample::example).toList(), DEMO_PRICE_EXAMPLES));
    Optional<PriceEvaluation.Result> before = Optional.empty();
    if (prices.isPresent()) {
      before = Optional.of(prices.get().run(trainer.config().baseModel(), null, trainer.config().device(), trainer.config().computeType(), trainer.config().batchSize()));
      out.printf(Locale.ROOT, "price metrics before training (%d validation listings, base model): %s%n", prices.get().size(), before.get().render());
      out.flush();
    }
    TrainingResult result = trainer.fit();
    printSummary(out, result);
    if (prices.isPresent()) {
      PriceEvaluation.Result after =
          prices.get().run(trainer.config().baseModel(), result.adapterDir(), trainer.config().device(), trainer.config().computeType(), trainer.config().batchSize());
      out.printf(Locale.ROOT, "price before: %s%n", before.orElseThrow().render());
      out.printf(Locale.ROOT, "price after:  %s%n", after.render());
      Files.writeString(result.runDir().resolve("price-predictions.csv"), after.metrics().scatterCsv());
    }
    out.flush();
    return 0;
  }

  /**
   * Points {@code builder} at the preset's model and data, where {@link #prepare} will write them,
   * unless the settings name the user's own.
   *
   * @return the settings whose files are not written yet
   */
  private static List<TrainSetting> presetInputs(Trainer.Builder builder, TrainSettings settings, Path demoDir) {
    List<TrainSetting> pending = new ArrayList<>();
    if (!settings.has(TrainSetting.BASE_MODEL)) {
      builder.baseModel(demoDir.resolve("model"));
      pending.add(TrainSetting.BASE_MODEL);
    }
    if (!settings.has(TrainSetting.TRAIN_DATA)) {
      builder.trainData(demoDir.resolve("data").resolve("train.jsonl"));
      pending.add(TrainSetting.TRAIN_DATA);
      if (!settings.has(TrainSetting.EVAL_DATA)) {
        builder.evalData(demoDir.resolve("data").resolve("eval.jsonl"));
        pending.add(TrainSetting.EVAL_DATA);
      }
    }
    return pending;
  }

  /** The config file's settings with the flags' on top. */
  private TrainSettings settings() {
    TrainSettings file = config == null ? TrainSettings.empty() : TrainSettings.readFile(config);
    Map<TrainSetting, String> flags = new EnumMap<>(TrainSetting.class);
    ParseResult parsed = spec.commandLine().getParseResult();
    for (TrainSetting s : TrainSetting.values()) {
      OptionSpec option = parsed.matchedOption(s.flags().getFirst());
      if (option != null) {
        flags.put(s, option.getValue());
      }
    }
    return file.overriddenBy(TrainSettings.fromFlags(flags));
  }

  /** The preset, if one is named; a user's model gets the course's content budget of 179 tokens. */
  private Optional<PricerDemo> demo(boolean ownModel) {
    if (preset == null) {
      return Optional.empty();
    }
    if (!preset.equals(PricerDemo.NAME)) {
      throw new IllegalArgumentException("--preset " + preset + ": no such preset; presets: " + PricerDemo.NAME);
    }
    PricerDemo.Builder b = PricerDemo.builder();
    if (ownModel) {
      b.maxContentTokens(PricerDemo.COURSE_CONTENT_TOKENS);
    }
    return Optional.of(b.build());
  }


  /** How often the preset evaluates a real model on its synthetic validation listings. */
  static final int COURSE_EVAL_EVERY = 50;

  /** Validation listings the preset answers before and after training. */
  static final int DEMO_PRICE_EXAMPLES = 200;

  /** DJL's system property for PyTorch's intra-op threads, read when the engine starts. */
  static final String TORCH_THREADS = "ai.djl.pytorch.num_threads";

  /**
   * Runs PyTorch's CPU ops on one thread unless the user chose. The demo's matrices are too small to
   * gain from more (measured: 6.1 s with two threads, 7.9 s with one), and on a machine that is busy
   * with other work OpenMP's spinning threads make the same run take 298 s instead of 25 s: the
   * demo's time budget must hold on a shared 2-core machine.
   */
  private static void oneCpuThread(PrintWriter out) {
    if (System.getProperty(TORCH_THREADS) == null && System.getenv("OMP_NUM_THREADS") == null) {
      System.setProperty(TORCH_THREADS, "1");
      out.printf(Locale.ROOT, "%s: PyTorch's CPU ops on one thread (-D%s=N or OMP_NUM_THREADS=N to change)%n", PricerDemo.NAME, TORCH_THREADS);
    }
  }

  /**
   * Writes the preset's model and data that the settings do not replace.
   *
   * @return the data written, with its validation listings; empty when the user gave the data
   */
  private static Optional<PricerDemo.DemoData> prepare(PrintWriter out, PricerDemo demo, TrainSettings settings, Path demoDir) throws IOException {
    Path model = settings.get(TrainSetting.BASE_MODEL).map(Path.class::cast).orElse(null);
    if (model == null) {
      model = demo.writeModel(demoDir.resolve("model"));
      ModelConfig c = ModelConfig.load(model);
      out.printf(Locale.ROOT, "%s: a tiny Llama (%d layers, hidden %d, %d heads, vocab %d: %,d parameters of seeded random weights) in %s%n",
          PricerDemo.NAME, c.numHiddenLayers(), c.hiddenSize(), c.numAttentionHeads(), c.vocabSize(), c.parameterCount(), model);
    }
    Optional<PricerDemo.DemoData> written = Optional.empty();
    if (!settings.has(TrainSetting.TRAIN_DATA)) {
      try (PretrainedTokenizer tokenizer = PretrainedTokenizer.load(model)) {
        PricerDemo.DemoData data = demo.writeData(demoDir.resolve("data"), tokenizer);
        out.printf(Locale.ROOT, "%s: synthetic pricer listings in %s and %s (%d for validation)%n", PricerDemo.NAME, data.trainData(),
            data.evalData(), data.evalExamples().size());
        written = Optional.of(data);
      }
    }
    out.flush();
    return written;
  }

  private static void printSettings(PrintWriter out, TrainerConfig c) {
    out.printf(Locale.ROOT, "model %s, data %s%s, device %s%n", c.baseModel(), c.trainData(),
        c.evalData().map(e -> " (validation " + e + ")").orElse(""), c.device());
    out.printf(Locale.ROOT, "LoRA r=%d alpha=%s dropout %s on %s%s; %s, batch %d x %d, lr %s %s%s, %s, max length %d%n",
        c.loraR(), number(c.loraAlpha()), number(c.loraDropout()),
        c.targetModules().stream().sorted().map(TargetModule::peftName).collect(Collectors.joining(",")), c.useRsLora() ? " (rsLoRA)" : "",
        c.maxSteps() > 0 ? c.maxSteps() + " steps" : number(c.epochs()) + " epochs", c.batchSize(), c.gradientAccumulationSteps(),
        number(c.learningRate()), c.schedule(),
        c.warmupSteps() > 0 ? ", warmup " + c.warmupSteps() + " steps" : c.warmupRatio() > 0 ? ", warmup ratio " + number(c.warmupRatio()) : "",
        c.optimizer(), c.maxSequenceLength());
  }

  private static void printSummary(PrintWriter out, TrainingResult r) {
    out.println();
    out.printf(Locale.ROOT, "run:         %s%n", r.runDir());
    out.printf(Locale.ROOT, "adapter:     %s%n", r.adapterDir());
    out.printf(Locale.ROOT, "report:      %s%n", r.runDir().resolve("report.html"));
    out.printf(Locale.ROOT, "steps:       %d%s in %.1f s%n", r.steps(), r.skippedSteps() > 0 ? " (" + r.skippedSteps() + " skipped: gradient not finite)" : "",
        r.seconds());
    Optional<FirstLoss> first = firstLoss(r.runDir());
    out.printf(Locale.ROOT, "train loss:  %s%.4f (step %d)%n", first.map(f -> String.format(Locale.ROOT, "%.4f (step %d) -> ", f.loss, f.step)).orElse(""),
        r.finalLoss(), r.steps());
    r.bestEvalLoss().ifPresent(best -> out.printf(Locale.ROOT, "eval loss:   best %.4f%s%n", best,
        r.bestCheckpoint().map(c -> " (" + c.getFileName() + ")").orElse("")));
    out.printf(Locale.ROOT, "throughput:  %,.0f tokens/s%n", r.tokensPerSecond());
    out.printf(Locale.ROOT, "peak memory: %.1f MiB%n", r.peakDeviceBytes() / (1024.0 * 1024.0));
  }

  private record FirstLoss(long step, double loss) {}

  /** The first logged training loss, from metrics.jsonl (TrainingResult keeps only the last). */
  private static Optional<FirstLoss> firstLoss(Path runDir) {
    try (var lines = Files.lines(runDir.resolve("metrics.jsonl"))) {
      return lines.findFirst().map(l -> JsonParser.parseString(l).getAsJsonObject())
          .filter(o -> o.has("loss") && o.has("step"))
          .map(o -> new FirstLoss(o.get("step").getAsLong(), o.get("loss").getAsDouble()));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** 64.0 as "64", 0.05 as "0.05", 1.0E-4 as "1e-4". */
  private static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v).replace("E", "e");
  }

  /** Adds a flag for every {@link TrainSetting}, after picocli has read the annotations. */
  static final class SettingFlags implements CommandLine.IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      for (TrainSetting s : TrainSetting.values()) {
        OptionSpec.Builder option = OptionSpec.builder(s.flags().toArray(String[]::new))
            .type(String.class)
            .paramLabel(s.paramLabel())
            .description(s.description() + " Config key: " + String.join(", ", s.keys()) + ".");
        if (s.type() == TrainSetting.Type.BOOLEAN) {
          option.arity("0..1").fallbackValue("true").paramLabel("true|false");
        }
        spec.addOption(option.build());
      }
      return spec;
    }
  }

  /** The presets --preset accepts, for the help text. */
  static final class Presets implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of(PricerDemo.NAME).iterator();
    }
  }
}
