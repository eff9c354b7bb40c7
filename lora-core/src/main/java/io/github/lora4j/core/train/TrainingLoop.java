package io.github.lora4j.core.train;

import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.core.generate.PriceEvaluation;
import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraConfig;
import io.github.lora4j.core.lora.LoraLayout;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.core.model.LlamaModel;
import io.github.lora4j.data.DatasetReader;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.SftConfig;
import io.github.lora4j.data.SftDataset;
import io.github.lora4j.data.Split;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.optim.GradientAccumulation;
import io.github.lora4j.optim.Optimizer;
import io.github.lora4j.optim.OptimizerBuilder;
import io.github.lora4j.optim.Parameter;
import io.github.lora4j.optim.StepResult;
import io.github.lora4j.sched.FiniteSchedule;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.ScheduleBuilder;
import io.github.lora4j.sched.ScheduleType;
import io.github.lora4j.sched.Schedules;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training loop behind {@link io.github.lora4j.core.Trainer#fit()}: loads the model, tokenizer
 * and data, then runs optimizer steps of {@code gradientAccumulationSteps} micro-batches each
 * (normalised by the loss tokens of all of them), logging, evaluating and checkpointing on schedule.
 * Not a public entry point of its own: use the Trainer.
 */
public final class TrainingLoop {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

  private final TrainerConfig c;
  private final Clock clock;

  private TrainingLoop(TrainerConfig config, Clock clock) {
    this.c = config;
    this.clock = clock;
  }

  /** Runs the training that {@code config} describes. */
  public static TrainingResult run(TrainerConfig config) throws IOException {
    return new TrainingLoop(config, Clock.systemUTC()).run();
  }

  private TrainingResult run() throws IOException {
    try (Backend backend = Backends.open(c.device())) {
      DType dtype = c.computeType().orElse(backend.defaultComputeType());
      LOG.info("training on {} in {}", backend.describe(), dtype);
      SftDataset train;
      Optional<SftDataset> eval;
      Optional<PriceEvaluation> priceEval = Optional.empty();
      try (PretrainedTokenizer tokenizer = PretrainedTokenizer.load(c.baseModel())) {
        SftConfig sft = sftConfig(true);
        train = SftDataset.encode(DatasetReader.builder(c.trainData()).build().read(Split.ALL), tokenizer, sft);
        eval = Optional.empty();
        if (c.evalData().isPresent()) {
          DatasetReader.ReadResult read = DatasetReader.builder(c.evalData().get()).build().read(Split.ALL);
          eval = Optional.of(SftDataset.encode(read, tokenizer, sftConfig(false)));
          // Pricer data ("... Price is $" / "123.00") also gets the course's price metrics from generated answers.
          if (c.priceEvalExamples() > 0) {
            priceEval = PriceEvaluation.of(read.examples(), c.priceEvalExamples());
            priceEval.ifPresent(p -> LOG.info("evaluation data is pricer data: price metrics from {} generated answers at each evaluation", p.size()));
          }
        }
      }
      if (train.rows() == 0) {
        throw new IllegalArgumentException("trainData " + c.trainData() + " has no usable examples: " + train.statistics().render());
      }
      int perEpoch = Math.max(1, train.batchesPerEpoch() / c.gradientAccumulationSteps());
      long totalSteps = c.maxSteps() > 0 ? c.maxSteps() : (long) Math.ceil(c.epochs() * perEpoch);
      LearningRateSchedule schedule = schedule(totalSteps);
      LOG.info("learning-rate schedule: {}", schedule);
      Optional<CheckpointStore.Checkpoint> resume =
          c.resumeFrom().isPresent() ? Optional.of(CheckpointStore.resolve(c.resumeFrom().get(), c.outputDir(), c.project())) : Optional.empty();
      try (LlamaModel model = LlamaModel.load(c.baseModel(), backend, dtype);
          LoraAdapter adapter = resume.isPresent() ? resumedAdapter(resume.get(), model, backend) : LoraAdapter.initialize(model.config(), loraConfig(), backend);
          Optimizer optimizer = optimizer(schedule, adapter)) {
        model.setGradientCheckpointing(c.gradientCheckpointing());
        if (resume.isPresent()) {
          optimizer.loadState(resume.get().dir());
        }
        try (PretrainedTokenizer tokenizer = priceEval.isPresent() ? PretrainedTokenizer.load(c.baseModel()) : null) {
          Evaluation evaluation = new Evaluation(backend, model, adapter, eval, priceEval, tokenizer, c.batchSize());
          return loop(backend, model, adapter, optimizer, train, evaluation, totalSteps, resume, schedule);
        }
      }
    }
  }

  private TrainingResult loop(
      Backend backend, LlamaModel model, LoraAdapter adapter, Optimizer optimizer, SftDataset train, Evaluation evaluation, long totalSteps,
      Optional<CheckpointStore.Checkpoint> resume, LearningRateSchedule schedule)
      throws IOException {
    // A resumed run continues in its checkpoint's run directory, at the step after it.
    Path runDir = resume.isPresent() ? resume.get().dir().toAbsolutePath().getParent() : c.outputDir().resolve(c.runName().orElseGet(() -> RunNames.unique(c.outputDir(), c.project(), clock)));
    String runName = runDir.getFileName().toString();
    Files.createDirectories(runDir);
    CheckpointStore store = CheckpointStore.open(runDir, c.saveTotalLimit().orElse(0));
    TrainerState state = resume.isPresent()
        ? resume.get().state()
        : TrainerState.start(totalSteps, (int) Math.ceil(c.epochs()), c.batchSize(), c.logEvery(), c.evalEvery(), c.saveEvery());
    long firstStep = state.globalStep() + 1;
    if (resume.isPresent()) {
      LOG.info("resuming {} at step {} of {}", runName, firstStep, totalSteps);
    }
    // A resumed run's report shows the whole run: the steps before the checkpoint come from its log history.
    List<StepMetrics> history = new ArrayList<>(state.stepMetrics());
    Callbacks callbacks = new Callbacks(c.callbacks());
    HubPusher hub = c.hub().isPresent() ? HubPusher.start(c.hub().get(), runDir) : null;
    backend.resetPeakBytes();
    long start = System.nanoTime();
    long tokens = state.numInputTokensSeen();
    // Throughput counts tokens that are not padding, in this run only.
    long realTokens = 0;
    long tokensSinceLog = 0;
    long lastLog = start;
    // Time spent evaluating and saving is not training: throughput leaves it out.
    long pausedSinceLog = 0;
    long paused = 0;
    double lastLoss = Double.NaN;
    Optional<Path> lastCheckpoint = Optional.empty();
    // The data order is a function of (seed, epoch), so the position is just the batches consumed.
    BatchStream batches = new BatchStream(train, (firstStep - 1) * c.gradientAccumulationSteps());
    try (JsonlMetricsSink jsonl = resume.isPresent() ? JsonlMetricsSink.resume(runDir, firstStep - 1, clock) : JsonlMetricsSink.open(runDir, clock);
        TensorBoardSink tensorboard = TensorBoardSink.open(runDir.resolve("runs"), clock);
        ProgressBar progress = ProgressBar.start(totalSteps, firstStep - 1, Duration.ZERO)) {
      callbacks.onTrainBegin(new TrainingStart(c, runDir, firstStep, totalSteps));
      for (long step = firstStep; step <= totalSteps && !callbacks.control.shouldStop(); step++) {
        List<TokenBatch> micro = new ArrayList<>(c.gradientAccumulationSteps());
        long[] lossTokens = new long[c.gradientAccumulationSteps()];
        for (int i = 0; i < lossTokens.length; i++) {
          TokenBatch b = batches.next();
          micro.add(b);
          lossTokens[i] = b.countedTargets();
          tokens += b.tokenCount();
          tokensSinceLog += b.realTokenCount();
          realTokens += b.realTokenCount();
        }
        StepResult result;
        double loss = Double.NaN;
        boolean last;
        boolean evalNow;
        try (GradientAccumulation acc = GradientAccumulation.over(backend, lossTokens)) {
          for (int i = 0; i < micro.size(); i++) {
            long dropoutSeed = c.loraDropout() > 0 ? ((c.seed() * 1_000_003L + step) * 64 + i) & Long.MAX_VALUE : -1;
            acc.addLossSum(model.forwardBackward(micro.get(i), adapter, acc.gradScale(), dropoutSeed));
          }
          result = optimizer.step();
          optimizer.zeroGrad();
          callbacks.onStepEnd(step);
          // A stop requested by a callback makes this step the last: logged, evaluated and saved as such.
          last = step == totalSteps || callbacks.control.shouldStop();
          boolean logNow = step % c.logEvery() == 0 || last;
          evalNow = evaluation.enabled() && c.evalEvery() > 0 && (step % c.evalEvery() == 0 || last);
          if (logNow || evalNow) {
            // The one read-back of a logged step: the loss and the norm wait for the device here.
            loss = acc.meanLoss();
          }
        }
        double epoch = batches.epochFraction();
        state = state.atStep(step, epoch, tokens);
        progress.step(step);
        StepMetrics m = null;
        // Only logged and evaluated steps read the loss back; a save at another step still happens below.
        if (!Double.isNaN(loss)) {
          lastLoss = loss;
          if (!Double.isFinite(loss)) {
            throw new IllegalStateException(String.format(
                "the training loss became %s at step %d; the last good checkpoint is %s. Try a lower learningRate, maxGradNorm (clipping), or a bf16/fp32 computeType",
                loss, step, lastCheckpoint.map(Path::toString).orElse("none (no checkpoint saved yet)")));
          }
          long now = System.nanoTime();
          double tokensPerSecond = tokensSinceLog / (Math.max(1, now - lastLog - pausedSinceLog) / 1e9);
          tokensSinceLog = 0;
          lastLog = now;
          pausedSinceLog = 0;
          m = new StepMetrics(step, epoch, loss, result.learningRate(), result.gradNorm().value(), tokensPerSecond, backend.peakBytes());
          if (evalNow) {
            long t = System.nanoTime();
            m = m.withEval(evaluation.run());
            long d = System.nanoTime() - t;
            pausedSinceLog += d;
            paused += d;
          }
          history.add(m);
          state = state.withLog(m);
          jsonl.log(m);
          tensorboard.log(m);
          progress.log(m);
          callbacks.onLog(m);
          if (m.hasEval()) {
            callbacks.onEvaluate(m);
          }
        }
        if (step % c.saveEvery() == 0 || last || callbacks.control.shouldStop()) {
          long saveStart = System.nanoTime();
          String name = CheckpointStore.PREFIX + step;
          if (m != null && m.evalLoss().isPresent() && state.improvesOnBest(m.evalLoss().getAsDouble())) {
            state = state.withBest(m.evalLoss().getAsDouble(), step, runDir.resolve(name).toString());
          }
          CheckpointStore.Checkpoint saved =
              store.save(state, dir -> {
                PeftAdapters.save(adapter, dir, c.baseModel().toString());
                optimizer.saveState(dir);
              });
          lastCheckpoint = Optional.of(saved.dir());
          if (hub != null) {
            hub.checkpointSaved(step, saved.dir(), ModelCard.render(c.hub().get().repoId(), c, runName, step, totalSteps, lastLoss, state));
          }
          callbacks.onSave(step, saved.dir());
          long d = System.nanoTime() - saveStart;
          pausedSinceLog += d;
          paused += d;
        }
      }
    }
    Optional<String> stopReason = state.globalStep() < totalSteps ? callbacks.control.stopReason() : Optional.empty();
    if (stopReason.isPresent()) {
      LOG.info("training stopped at step {} of {}: {}", state.globalStep(), totalSteps, stopReason.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Path adapterDir = runDir.resolve("adapter");
    Optional<Path> best = Optional.ofNullable(state.bestModelCheckpoint()).map(Path::of);
    if (c.loadBestAtEnd() && best.isPresent()) {
      LOG.info("loadBestAtEnd: the final adapter is {}'s (eval_loss {})", best.get().getFileName(), state.bestMetric());
      copyAdapter(best.get(), adapterDir);
    } else {
      PeftAdapters.save(adapter, adapterDir, c.baseModel().toString());
    }
    TrainerState last = state;
    HtmlReport.write(runDir, runName, history, settings(schedule), best.map(b -> new HtmlReport.Best(last.bestGlobalStep(), last.bestMetric(), b.getFileName().toString())).orElse(null));
    Optional<HubUploads> uploads = Optional.empty();
    if (hub != null) {
      hub.trainingEnded(adapterDir, lastCheckpoint, ModelCard.render(c.hub().get().repoId(), c, runName, state.globalStep(), totalSteps, lastLoss, state));
      uploads = Optional.of(hub.finish(c.hub().get().waitAtEnd()));
    }
    TrainingResult trained = new TrainingResult(
        runDir, adapterDir, optimizer.stepCount(), optimizer.skippedSteps(), lastLoss, Optional.ofNullable(state.bestMetric()), best, seconds,
        realTokens / Math.max(1e-9, seconds - paused / 1e9),
        backend.peakBytes(), uploads, stopReason);
    callbacks.onTrainEnd(trained);
    return trained;
  }

  /**
   * The adapter of a checkpoint, after checking that it was trained with this run's LoRA settings
   * (a checkpoint of another model fails to load with the mismatched keys named).
   */
  private LoraAdapter resumedAdapter(CheckpointStore.Checkpoint checkpoint, LlamaModel model, Backend backend) throws IOException {
    LoraConfig saved = LoraConfig.readPeftConfig(checkpoint.dir());
    LoraConfig wanted = loraConfig();
    if (saved.r() != wanted.r() || saved.loraAlpha() != wanted.loraAlpha() || !saved.targetModules().equals(wanted.targetModules())
        || saved.useRslora() != wanted.useRslora()) {
      throw new IllegalArgumentException(
          "resumeFrom " + checkpoint.dir() + " was trained with r=" + saved.r() + ", alpha=" + saved.loraAlpha() + ", targets=" + saved.targetModules()
              + ", rsLoRA=" + saved.useRslora() + "; this run has r=" + wanted.r() + ", alpha=" + wanted.loraAlpha() + ", targets=" + wanted.targetModules()
              + ", rsLoRA=" + wanted.useRslora());
    }
    return PeftAdapters.load(checkpoint.dir(), model.config(), wanted, backend);
  }

  private SftConfig sftConfig(boolean shuffle) {
    return SftConfig.builder().maxSequenceLength(c.maxSequenceLength()).batchSize(c.batchSize()).seed(c.seed()).shuffle(shuffle).build();
  }

  private LoraConfig loraConfig() {
    return LoraConfig.builder().r(c.loraR()).loraAlpha(c.loraAlpha()).loraDropout(c.loraDropout()).targetModules(c.targetModules()).useRslora(c.useRsLora()).seed(c.seed()).build();
  }

  private LearningRateSchedule schedule(long totalSteps) {
    if (c.scheduleFactory().isPresent()) {
      LearningRateSchedule s;
      try {
        s = c.scheduleFactory().get().apply(totalSteps);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("schedule(factory) failed for a run of " + totalSteps + " steps: " + e.getMessage(), e);
      }
      if (s == null) {
        throw new IllegalArgumentException("schedule(factory) returned null for a run of " + totalSteps + " steps");
      }
      if (s instanceof FiniteSchedule f && f.totalSteps() != totalSteps) {
        LOG.warn("the schedule from schedule(factory) decays over {} steps but the run has {}: {}", f.totalSteps(), totalSteps, s);
      }
      return s;
    }
    ScheduleType type = ScheduleType.fromName(c.schedule());
    ScheduleBuilder b = Schedules.builder(type).learningRate(c.learningRate());
    if (type != ScheduleType.CONSTANT && type != ScheduleType.CONSTANT_WITH_WARMUP && type != ScheduleType.INVERSE_SQRT) {
      b.totalSteps(totalSteps);
    }
    if (c.warmupSteps() > 0) {
      b.warmupSteps(c.warmupSteps());
    } else if (c.warmupRatio() > 0) {
      b.warmupSteps((long) Math.ceil(c.warmupRatio() * totalSteps));
    }
    return b.build();
  }

  private Optimizer optimizer(LearningRateSchedule schedule, LoraAdapter adapter) {
    List<Parameter> params = new ArrayList<>();
    for (LoraModule m : adapter.modules()) {
      params.add(new Parameter(LoraLayout.loraAKey(m.layer(), m.target()), m.a(), m.gradA()));
      params.add(new Parameter(LoraLayout.loraBKey(m.layer(), m.target()), m.b(), m.gradB()));
    }
    OptimizerBuilder<?, ?> builder = c.optimizerBuilder().isPresent() ? c.optimizerBuilder().get() : io.github.lora4j.optim.Optimizers.byName(c.optimizer());
    return builder.learningRate(schedule).weightDecay(c.weightDecay()).maxGradNorm(c.maxGradNorm()).build(params.toArray(Parameter[]::new));
  }

  private Map<String, Object> settings(LearningRateSchedule schedule) {
    Map<String, Object> s = new LinkedHashMap<>();
    for (var component : TrainerConfig.class.getRecordComponents()) {
      try {
        Object v = component.getAccessor().invoke(c);
        // As a person reads them: an absent setting as "default", target modules by their PEFT names.
        if (v instanceof Optional<?> o) {
          v = o.isPresent() ? o.get() : "default";
        }
        if (component.getName().equals("targetModules")) {
          v = c.targetModules().stream().map(TargetModule::peftName).sorted().toList();
        }
        s.put(component.getName(), v);
      } catch (ReflectiveOperationException e) {
        s.put(component.getName(), "?");
      }
    }
    // The schedule as built, with its step count and warmup; objects by their class, not a lambda's toString.
    s.put("schedule", schedule.toString());
    s.put("scheduleFactory", c.scheduleFactory().isPresent() ? "given" : "none");
    s.put("optimizerBuilder", c.optimizerBuilder().map(b -> b.getClass().getName()).orElse("none"));
    s.put("callbacks", c.callbacks().stream().map(cb -> cb.getClass().getName()).toList());
    return s;
  }

  private static void copyAdapter(Path checkpoint, Path adapterDir) throws IOException {
    Files.createDirectories(adapterDir);
    for (String f : List.of(LoraConfig.ADAPTER_CONFIG_FILE, LoraConfig.ADAPTER_WEIGHTS_FILE)) {
      Files.copy(checkpoint.resolve(f), adapterDir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The training batches in order, epoch after epoch, each epoch shuffled by (seed, epoch). */
  private static final class BatchStream {
    private final SftDataset data;
    private int epoch;
    private int index;
    private List<TokenBatch> current;

    BatchStream(SftDataset data, long consumed) {
      this.data = data;
      int perEpoch = data.batchesPerEpoch();
      this.epoch = (int) (consumed / perEpoch);
      this.index = (int) (consumed % perEpoch);
      this.current = data.epoch(epoch);
    }

    TokenBatch next() {
      if (index == current.size()) {
        epoch++;
        index = 0;
        current = data.epoch(epoch);
      }
      return current.get(index++);
    }

    double epochFraction() {
      return epoch + (double) index / current.size();
    }
  }
}
