package io.github.lora4j.core.train;

import io.github.lora4j.tensor.TempSiblings;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.github.lora4j.core.model.InvalidConfigException;
import io.github.lora4j.core.model.JsonConfigFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The trainer's progress as a checkpoint keeps it, in {@code trainer_state.json}, with the keys and
 * meaning of transformers' {@code TrainerState}: the step and epoch reached, the log history, and
 * the best checkpoint so far. transformers' {@code TrainerState.load_from_json} loads the file
 * lora4j writes; lora4j's own resume data (optimizer, RNG, data position) lives in other files.
 *
 * <pre>{@code
 * TrainerState s = TrainerState.read(Path.of("out/pricer-2026-01-02_03.04.05/checkpoint-500"));
 * s.globalStep();          // 500
 * s.bestModelCheckpoint(); // ".../checkpoint-400", or null
 * }</pre>
 *
 * @param epoch the fractional epoch reached
 * @param globalStep optimizer steps done
 * @param maxSteps the steps the run will take in all
 * @param loggingSteps metrics are logged every this many steps
 * @param evalSteps evaluation runs every this many steps
 * @param saveSteps a checkpoint is saved every this many steps
 * @param trainBatchSize examples per device batch
 * @param numTrainEpochs the epochs the run will take, rounded up
 * @param numInputTokensSeen training tokens seen so far
 * @param logHistory every logged step's metrics, oldest first, as {@link StepMetrics#toLogEntry()}
 *     writes them (values are Long, Double, String or Boolean)
 * @param bestMetric the lowest {@code eval_loss} of a saved checkpoint, or null before there is one
 * @param bestGlobalStep the step of that checkpoint, or null
 * @param bestModelCheckpoint the path of that checkpoint's directory, or null
 */
public record TrainerState(
    double epoch,
    long globalStep,
    long maxSteps,
    int loggingSteps,
    int evalSteps,
    int saveSteps,
    int trainBatchSize,
    int numTrainEpochs,
    long numInputTokensSeen,
    List<Map<String, Object>> logHistory,
    Double bestMetric,
    Long bestGlobalStep,
    String bestModelCheckpoint) {

  /** The file a checkpoint keeps the state in, as transformers names it. */
  public static final String FILE_NAME = "trainer_state.json";

  /** Checks the components and copies the history. */
  public TrainerState {
    if (!(epoch >= 0) || Double.isInfinite(epoch)) {
      throw new IllegalArgumentException("epoch must be finite and >= 0: " + epoch);
    }
    if (globalStep < 0) {
      throw new IllegalArgumentException("globalStep must be >= 0: " + globalStep);
    }
    if (maxSteps < 0) {
      throw new IllegalArgumentException("maxSteps must be >= 0: " + maxSteps);
    }
    if (numInputTokensSeen < 0) {
      throw new IllegalArgumentException("numInputTokensSeen must be >= 0: " + numInputTokensSeen);
    }
    if ((bestMetric == null) != (bestModelCheckpoint == null)) {
      throw new IllegalArgumentException("bestMetric and bestModelCheckpoint are set together: " + bestMetric
          + ", " + bestModelCheckpoint);
    }
    var history = new ArrayList<Map<String, Object>>();
    for (Map<String, Object> entry : Objects.requireNonNull(logHistory, "logHistory")) {
      history.add(Collections.unmodifiableMap(new TreeMap<>(entry)));
    }
    logHistory = Collections.unmodifiableList(history);
  }

  /** The state before the first step of a run. */
  public static TrainerState start(long maxSteps, int numTrainEpochs, int trainBatchSize, int loggingSteps,
      int evalSteps, int saveSteps) {
    return new TrainerState(0, 0, maxSteps, loggingSteps, evalSteps, saveSteps, trainBatchSize, numTrainEpochs, 0,
        List.of(), null, null, null);
  }

  /** This state after {@code step} steps, at {@code epoch}, with {@code tokensSeen} tokens seen. */
  public TrainerState atStep(long step, double epoch, long tokensSeen) {
    return new TrainerState(epoch, step, maxSteps, loggingSteps, evalSteps, saveSteps, trainBatchSize,
        numTrainEpochs, tokensSeen, logHistory, bestMetric, bestGlobalStep, bestModelCheckpoint);
  }

  /** This state with {@code m} appended to the log history. */
  public TrainerState withLog(StepMetrics m) {
    var history = new ArrayList<>(logHistory);
    history.add(m.toLogEntry());
    return new TrainerState(epoch, globalStep, maxSteps, loggingSteps, evalSteps, saveSteps, trainBatchSize,
        numTrainEpochs, numInputTokensSeen, history, bestMetric, bestGlobalStep, bestModelCheckpoint);
  }

  /**
   * The log history as {@link StepMetrics}, one per logged step, in step order: what the report of
   * a resumed run draws for the steps before its checkpoint. transformers' entries read too: an
   * evaluation entry ({@code eval_*} keys, no {@code loss}) joins the training entry of its step; a
   * value an entry lacks is NaN (loss, grad norm) or 0 (epoch, learning rate, tokens/s, memory); an
   * entry with neither a loss nor an evaluation metric (transformers' closing {@code train_runtime}
   * summary) is left out.
   */
  public List<StepMetrics> stepMetrics() {
    var byStep = new TreeMap<Long, StepMetrics>();
    for (Map<String, Object> e : logHistory) {
      if (!(e.get("step") instanceof Number s) || s.longValue() < 0) {
        continue;
      }
      var eval = new java.util.LinkedHashMap<String, Double>();
      e.forEach((k, v) -> {
        if (k.startsWith("eval_") && v instanceof Number n) {
          eval.put(k, n.doubleValue());
        }
      });
      boolean train = e.get("loss") instanceof Number;
      if (!train && eval.isEmpty()) {
        continue;
      }
      var m = new StepMetrics(s.longValue(), atLeastZero(e.get("epoch")), train ? ((Number) e.get("loss")).doubleValue() : Double.NaN,
          atLeastZero(e.get("learning_rate")), e.get("grad_norm") instanceof Number g ? g.doubleValue() : Double.NaN,
          atLeastZero(e.get("tokens_per_second")), (long) atLeastZero(e.get("device_bytes")), eval);
      StepMetrics before = byStep.get(m.step());
      if (before != null) {
        var merged = new java.util.LinkedHashMap<>(before.evalMetrics());
        merged.putAll(m.evalMetrics());
        m = (train ? m : before).withEval(merged);
      }
      byStep.put(m.step(), m);
    }
    return List.copyOf(byStep.values());
  }

  private static double atLeastZero(Object v) {
    return v instanceof Number n && n.doubleValue() >= 0 && Double.isFinite(n.doubleValue()) ? n.doubleValue() : 0;
  }

  /**
   * Whether a checkpoint with this validation metric would be the new best: lower is better, as
   * for transformers' {@code metric_for_best_model="eval_loss"}; NaN never is.
   */
  public boolean improvesOnBest(double metric) {
    return !Double.isNaN(metric) && (bestMetric == null || metric < bestMetric);
  }

  /** This state with the checkpoint at {@code step}, in {@code checkpointDir}, as the best. */
  public TrainerState withBest(double metric, long step, String checkpointDir) {
    return new TrainerState(epoch, globalStep, maxSteps, loggingSteps, evalSteps, saveSteps, trainBatchSize,
        numTrainEpochs, numInputTokensSeen, logHistory, metric, step, Objects.requireNonNull(checkpointDir));
  }

  // ---- trainer_state.json ----

  /**
   * The JSON transformers writes: every key of its {@code TrainerState} (those lora4j does not track
   * at their defaults), sorted, indented by two spaces, ending in a newline.
   */
  public String toJson() {
    var keys = new TreeMap<String, JsonElement>();
    keys.put("best_global_step", bestGlobalStep == null ? JsonNull.INSTANCE : new JsonPrimitive(bestGlobalStep));
    keys.put("best_metric", bestMetric == null ? JsonNull.INSTANCE : new JsonPrimitive(bestMetric));
    keys.put("best_model_checkpoint",
        bestModelCheckpoint == null ? JsonNull.INSTANCE : new JsonPrimitive(bestModelCheckpoint));
    keys.put("epoch", new JsonPrimitive(epoch));
    keys.put("eval_steps", new JsonPrimitive(evalSteps));
    keys.put("global_step", new JsonPrimitive(globalStep));
    keys.put("is_hyper_param_search", new JsonPrimitive(false));
    keys.put("is_local_process_zero", new JsonPrimitive(true));
    keys.put("is_world_process_zero", new JsonPrimitive(true));
    var history = new JsonArray();
    for (Map<String, Object> entry : logHistory) {
      var o = new JsonObject();
      entry.forEach((k, v) -> o.add(k, toJson(v)));
      history.add(o);
    }
    keys.put("log_history", history);
    keys.put("logging_steps", new JsonPrimitive(loggingSteps));
    keys.put("max_steps", new JsonPrimitive(maxSteps));
    keys.put("num_input_tokens_seen", new JsonPrimitive(numInputTokensSeen));
    keys.put("num_train_epochs", new JsonPrimitive(numTrainEpochs));
    keys.put("save_steps", new JsonPrimitive(saveSteps));
    keys.put("stateful_callbacks", new JsonObject());
    keys.put("total_flos", new JsonPrimitive(0));
    keys.put("train_batch_size", new JsonPrimitive(trainBatchSize));
    keys.put("trial_name", JsonNull.INSTANCE);
    keys.put("trial_params", JsonNull.INSTANCE);
    var root = new JsonObject();
    keys.forEach(root::add);
    return new GsonBuilder().serializeNulls().serializeSpecialFloatingPointValues().setPrettyPrinting()
        .disableHtmlEscaping().create().toJson(root) + "\n";
  }

  /** Writes {@code dir/trainer_state.json} through a temporary file renamed into place. */
  public void write(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    Path tmp = TempSiblings.file(dir, "." + FILE_NAME + ".", ".tmp");
    try {
      Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Reads a {@code trainer_state.json}, lora4j's or transformers' ({@code path} is the file or the
   * checkpoint directory). Keys lora4j does not track are ignored.
   *
   * @throws InvalidConfigException naming the file and the key when a value is wrong
   */
  public static TrainerState read(Path path) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve(FILE_NAME) : path;
    if (!Files.isRegularFile(file)) {
      throw new InvalidConfigException(path.toString(), null, Files.isDirectory(path)
          ? "the directory holds no " + FILE_NAME : "no such file");
    }
    return fromJson(JsonConfigFile.read(file));
  }

  /** Parses the text of a {@code trainer_state.json}; {@code source} names it in errors. */
  public static TrainerState fromJson(String json, String source) throws InvalidConfigException {
    return fromJson(JsonConfigFile.parse(json, source));
  }

  private static TrainerState fromJson(JsonConfigFile c) throws InvalidConfigException {
    var history = new ArrayList<Map<String, Object>>();
    JsonElement h = c.get("log_history").orElse(new JsonArray());
    if (!h.isJsonArray()) {
      throw c.error("log_history", "must be a list of objects");
    }
    for (JsonElement e : h.getAsJsonArray()) {
      if (!e.isJsonObject()) {
        throw c.error("log_history", "must be a list of objects, not hold " + e);
      }
      var entry = new TreeMap<String, Object>();
      for (Map.Entry<String, JsonElement> kv : e.getAsJsonObject().entrySet()) {
        Object v = fromJson(kv.getValue());
        if (v != null) {
          entry.put(kv.getKey(), v);
        }
      }
      history.add(entry);
    }
    try {
      Double best = c.has("best_metric") ? c.number("best_metric") : null;
      Long bestStep = c.has("best_global_step") ? (long) c.number("best_global_step") : null;
      String bestDir = c.optionalString("best_model_checkpoint").orElse(null);
      return new TrainerState(
          c.optionalNumber("epoch").orElse(0),
          (long) c.number("global_step"),
          (long) c.optionalNumber("max_steps").orElse(0),
          c.optionalInteger("logging_steps").orElse(0),
          c.optionalInteger("eval_steps").orElse(0),
          c.optionalInteger("save_steps").orElse(0),
          c.optionalInteger("train_batch_size").orElse(0),
          (int) Math.ceil(c.optionalNumber("num_train_epochs").orElse(0)),
          (long) c.optionalNumber("num_input_tokens_seen").orElse(0),
          history, best, bestStep, bestDir);
    } catch (IllegalArgumentException e) {
      throw c.error(null, e.getMessage());
    }
  }

  private static JsonElement toJson(Object v) {
    return switch (v) {
      case null -> JsonNull.INSTANCE;
      case Number n -> new JsonPrimitive(n);
      case Boolean b -> new JsonPrimitive(b);
      default -> new JsonPrimitive(v.toString());
    };
  }

  /** A log value as Java holds it: integers as Long, other numbers (and NaN, Infinity) as Double. */
  private static Object fromJson(JsonElement e) {
    if (e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonPrimitive()) {
      return e.toString();
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    String s = p.getAsString();
    if (p.isNumber()) {
      if (s.matches("-?\\d{1,18}")) {
        return Long.parseLong(s);
      }
      return p.getAsDouble();
    }
    // A lenient reader hands Python's NaN and Infinity over as strings.
    return switch (s) {
      case "NaN" -> Double.NaN;
      case "Infinity" -> Double.POSITIVE_INFINITY;
      case "-Infinity" -> Double.NEGATIVE_INFINITY;
      default -> s;
    };
  }
}
