package io.github.lora4j.optim;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import io.github.lora4j.tensor.safetensors.SafetensorsWriter;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every optimizer does around its update rule: the global norm, the non-finite check,
 * clipping, the loss scale, learning rates per group, state allocation, save and restore. A
 * subclass allocates its state with {@link #newState} in its constructor and updates one parameter
 * in {@link #update}.
 */
abstract sealed class BaseOptimizer implements Optimizer permits AdamW, AdamW8bit, PagedAdamW, SGD {
  private static final Logger LOG = LoggerFactory.getLogger(BaseOptimizer.class);
  static final String STATE_FILE = "optimizer.safetensors";
  static final String META_FILE = "optimizer.json";
  private static final String FORMAT = "lora4j-optimizer";
  private static final int VERSION = 1;
  /** torch's clip_grad_norm_ adds this to the norm before dividing. */
  private static final float CLIP_EPSILON = 1e-6f;

  final Backend backend;
  private final List<ParameterGroup> groups;
  private final List<Tensor> grads = new ArrayList<>();
  private final LearningRateSchedule schedule;
  private final double weightDecay;
  private final double maxGradNorm;
  private final boolean skipNonFiniteSteps;
  private final LossScaler lossScaler;
  private final Map<String, Tensor> state = new LinkedHashMap<>();
  private final Set<Tensor> hostState = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private StatePages pages;
  private long step;
  private long skipped;
  private GradNorm lastNorm;
  private boolean closed;

  BaseOptimizer(OptimizerBuilder<?, ?> settings, List<ParameterGroup> groups) {
    settings.checkCommon();
    Arguments.notNull("groups", groups);
    if (groups.isEmpty()) {
      throw new IllegalArgumentException("groups must not be empty");
    }
    this.groups = List.copyOf(groups);
    Set<String> names = new HashSet<>();
    Set<String> groupNames = new HashSet<>();
    Map<Tensor, String> values = new IdentityHashMap<>();
    Backend first = null;
    for (ParameterGroup g : this.groups) {
      if (!groupNames.add(g.name())) {
        throw new IllegalArgumentException("group name '" + g.name() + "' is used twice");
      }
      for (Parameter p : g.parameters()) {
        if (!names.add(p.name())) {
          throw new IllegalArgumentException("parameter name '" + p.name() + "' is used twice");
        }
        String other = values.put(p.value(), p.name());
        if (other != null) {
          throw new IllegalArgumentException("parameters '" + other + "' and '" + p.name() + "' are the same tensor");
        }
        if (first == null) {
          first = p.value().backend();
        } else if (p.value().backend() != first) {
          throw new IllegalArgumentException("parameter '" + p.name() + "' is on " + p.value().device() + ", the others on " + first.device());
        }
        grads.add(p.grad());
      }
    }
    this.backend = first;
    this.schedule = settings.schedule;
    this.weightDecay = settings.weightDecay;
    this.maxGradNorm = settings.maxGradNorm;
    this.skipNonFiniteSteps = settings.skipNonFiniteSteps;
    this.lossScaler = settings.lossScaler;
  }

  /** One update of one parameter; {@code step} counts from 1 and includes this update. */
  abstract void update(Parameter p, double learningRate, double weightDecay, long step, float gradScale);

  /** The optimizer's name in saved state: "adamw", "sgd", ... */
  abstract String kind();

  /** The optimizer's own hyperparameters, for the saved state's JSON. */
  abstract void describe(JsonObject hyperparameters);

  /** A zeroed state tensor of {@code p}'s shape, F32, owned by this optimizer and saved as {@code <p>.<name>}. */
  final Tensor newState(Parameter p, String name) {
    return newState(p, name, p.value().shape(), DType.F32);
  }

  final Tensor newState(Parameter p, String name, Shape shape, DType dtype) {
    String key = p.name() + "." + name;
    Tensor t = Scope.detached(() -> backend.zeros(shape, dtype));
    state.put(key, t);
    return t;
  }

  /** As {@link #newState}, in pinned host memory: saved and restored, but not device memory. */
  final Tensor newHostState(Parameter p, String name, Shape shape, DType dtype) {
    Tensor t = Scope.detached(() -> backend.pinnedHost(shape, dtype));
    state.put(p.name() + "." + name, t);
    hostState.add(t);
    return t;
  }

  /** Device pages for host state, freed with the optimizer and counted in {@link #stateBytes()}. */
  final StatePages ownPages(StatePages pages) {
    this.pages = pages;
    return pages;
  }

  @Override
  public final StepResult step() {
    checkOpen();
    if (lastNorm != null) {
      lastNorm.close();
    }
    double unscale = lossScaler == null ? 1 : 1.0 / lossScaler.scale();
    GradNorm norm = new GradNorm(Scope.detached(() -> backend.sumOfSquares(grads)), unscale);
    lastNorm = norm;
    double firstRate = learningRate(0);
    float gradScale = (float) unscale;
    if (skipNonFiniteSteps) {
      // The one host synchronisation of a step.
      double value = norm.value();
      if (!Double.isFinite(value)) {
        skipped++;
        if (lossScaler != null) {
          lossScaler.update(true);
        }
        LOG.warn("optimizer step {} skipped: the gradient norm is {}; {} step(s) skipped so far{}", step + 1, value, skipped,
            lossScaler == null ? "" : ", loss scale backs off to " + lossScaler.scale());
        return new StepResult(step, false, firstRate, norm);
      }
      if (maxGradNorm > 0) {
        // Scaling the gradient as it is read saves clip_grad_norm_'s pass over every gradient.
        gradScale = (float) unscale * clipCoefficient((float) value, (float) maxGradNorm);
      }
    } else if (maxGradNorm > 0) {
      backend.clipByNormInPlace(grads, norm.sumOfSquares(), (float) maxGradNorm);
    }
    step++;
    for (ParameterGroup g : groups) {
      double rate = learningRate(g, step - 1);
      double decay = g.weightDecay().orElse(weightDecay);
      for (Parameter p : g.parameters()) {
        update(p, rate, decay, step, gradScale);
      }
    }
    if (lossScaler != null) {
      lossScaler.update(false);
    }
    return new StepResult(step, true, firstRate, norm);
  }

  /** torch's clip_coef, {@code (1 / (norm + 1e-6)) * max_norm} in float32, clamped to 1. */
  static float clipCoefficient(float norm, float maxNorm) {
    return Math.min(1f, (1f / (norm + CLIP_EPSILON)) * maxNorm);
  }

  private double learningRate(ParameterGroup g, long updates) {
    return g.learningRate().isPresent() ? g.learningRate().getAsDouble() * schedule.factor(updates) : schedule.learningRate(updates);
  }

  @Override
  public double learningRate(int group) {
    return learningRate(groups.get(group), step);
  }

  @Override
  public void zeroGrad() {
    checkOpen();
    for (Tensor g : grads) {
      backend.zeroInPlace(g);
    }
  }

  @Override
  public long stepCount() {
    return step;
  }

  @Override
  public long skippedSteps() {
    return skipped;
  }

  @Override
  public List<ParameterGroup> parameterGroups() {
    return groups;
  }

  @Override
  public long stateBytes() {
    long bytes = pages == null ? 0 : pages.deviceBytes();
    for (Tensor t : state.values()) {
      if (!hostState.contains(t)) {
        bytes += t.numel() * t.dtype().byteSize();
      }
    }
    return bytes;
  }

  /** The state tensors by saved name, in allocation order. */
  final Map<String, Tensor> stateTensors() {
    return state;
  }

  // ---- save and restore ----

  @Override
  public void saveState(Path directory) throws IOException {
    checkOpen();
    Files.createDirectories(directory);
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", FORMAT);
    try (Arena arena = Arena.ofConfined()) {
      for (var e : state.entrySet()) {
        Tensor t = e.getValue();
        MemorySegment bytes = arena.allocate(t.numel() * t.dtype().byteSize(), 8);
        backend.toSegment(t, bytes);
        int[] dims = t.shape().dims();
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
          shape[i] = dims[i];
        }
        writer.putSegment(e.getKey(), t.dtype(), shape, bytes);
      }
      writer.write(directory.resolve(STATE_FILE));
    }
    Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
    Files.writeString(directory.resolve(META_FILE), gson.toJson(meta()) + "\n", StandardCharsets.UTF_8);
  }

  private JsonObject meta() {
    JsonObject json = new JsonObject();
    json.addProperty("format", FORMAT);
    json.addProperty("version", VERSION);
    json.addProperty("optimizer", kind());
    json.addProperty("step", step);
    json.addProperty("skipped_steps", skipped);
    JsonObject hyper = new JsonObject();
    hyper.addProperty("schedule", schedule.toString());
    hyper.addProperty("weight_decay", weightDecay);
    hyper.addProperty("max_grad_norm", maxGradNorm);
    hyper.addProperty("skip_non_finite_steps", skipNonFiniteSteps);
    describe(hyper);
    json.add("hyperparameters", hyper);
    if (lossScaler != null) {
      JsonObject scaler = new JsonObject();
      scaler.addProperty("scale", lossScaler.scale());
      scaler.addProperty("growth_tracker", lossScaler.growthTracker());
      scaler.addProperty("backoffs", lossScaler.backoffs());
      json.add("loss_scaler", scaler);
    }
    JsonArray groupsJson = new JsonArray();
    for (ParameterGroup g : groups) {
      JsonObject gj = new JsonObject();
      gj.addProperty("name", g.name());
      g.weightDecay().ifPresent(v -> gj.addProperty("weight_decay", v));
      g.learningRate().ifPresent(v -> gj.addProperty("learning_rate", v));
      JsonArray params = new JsonArray();
      for (Parameter p : g.parameters()) {
        params.add(p.name());
      }
      gj.add("parameters", params);
      groupsJson.add(gj);
    }
    json.add("groups", groupsJson);
    return json;
  }

  @Override
  public void loadState(Path directory) throws IOException {
    checkOpen();
    Path metaFile = directory.resolve(META_FILE);
    JsonObject json;
    try {
      json = JsonParser.parseString(Files.readString(metaFile, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(metaFile + ": not an optimizer state file: " + e.getMessage(), e);
    }
    if (!FORMAT.equals(string(json, "format")) || json.get("version") == null || json.get("version").getAsInt() != VERSION) {
      throw new IllegalArgumentException(metaFile + ": format must be " + FORMAT + " version " + VERSION + ", got " + json.get("format") + " " + json.get("version"));
    }
    if (!kind().equals(string(json, "optimizer"))) {
      throw new IllegalArgumentException(metaFile + ": holds the state of optimizer '" + string(json, "optimizer") + "', not '" + kind() + "'");
    }
    Path stateFile = directory.resolve(STATE_FILE);
    try (SafetensorsFile file = SafetensorsFile.open(stateFile)) {
      Set<String> saved = new HashSet<>(file.names());
      if (!saved.equals(state.keySet())) {
        Set<String> missing = new HashSet<>(state.keySet());
        missing.removeAll(saved);
        Set<String> extra = new HashSet<>(saved);
        extra.removeAll(state.keySet());
        throw new IllegalArgumentException(stateFile + ": state tensors do not match this optimizer's parameters: missing " + missing + ", unknown " + extra);
      }
      for (var e : state.entrySet()) {
        TensorInfo info = file.info(e.getKey());
        Tensor t = e.getValue();
        if (info.dtype() != t.dtype() || !java.util.Arrays.equals(info.intShape(), t.shape().dims())) {
          throw new IllegalArgumentException(stateFile + ": '" + e.getKey() + "' is " + info.dtype() + " " + java.util.Arrays.toString(info.shape())
              + ", this optimizer holds " + t.dtype() + " " + t.shape());
        }
      }
      try (Scope _ = backend.scope()) {
        for (var e : state.entrySet()) {
          Tensor t = e.getValue();
          backend.copyInto(backend.fromSegment(file.segment(e.getKey()), t.dtype(), t.shape(), t.dtype()), t);
        }
        backend.synchronize();
      }
    }
    step = json.get("step").getAsLong();
    skipped = json.get("skipped_steps").getAsLong();
    JsonElement scaler = json.get("loss_scaler");
    if (lossScaler != null && scaler != null && scaler.isJsonObject()) {
      JsonObject s = scaler.getAsJsonObject();
      lossScaler.restore(s.get("scale").getAsFloat(), s.get("growth_tracker").getAsLong(), s.get("backoffs").getAsLong());
    }
  }

  private static String string(JsonObject json, String key) {
    JsonElement e = json.get(key);
    return e == null || !e.isJsonPrimitive() ? null : e.getAsString();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(kind() + " optimizer is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (lastNorm != null) {
      lastNorm.close();
    }
    for (Tensor t : state.values()) {
      t.close();
    }
    if (pages != null) {
      pages.close();
    }
  }

  @Override
  public String toString() {
    JsonObject hyper = new JsonObject();
    describe(hyper);
    return kind() + "(" + schedule + ", weightDecay=" + weightDecay + ", maxGradNorm=" + maxGradNorm + ", " + hyper + ", step=" + step + ")";
  }
}
