package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.Schedules;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * AdamW and SGD against 100 steps of torch.optim on the same parameters and gradients, recorded by
 * {@code tools/golden/optimizers.py} into {@code golden/optimizers.safetensors} and {@code .json}:
 * the parameters after steps 1, 2, 10, 50 and 100, and every state tensor at the end, on the CPU
 * backend. Each case of the fixture is one test, built from the case's JSON the way a user would
 * build it (builder, schedule, groups, maxGradNorm). AdamW cases run twice, the second time as
 * {@link PagedAdamW} with pages smaller than a parameter.
 *
 * <p>Tolerance: 1e-6 relative to each tensor's largest value ({@link #assertClose}). lora4j follows
 * the float operations of torch 2's single-tensor code, so most elements agree to the bit; the rest
 * differ by the global norm's summation order, which the clipping coefficient carries. (Against
 * torch 1.13, whose AdamW updates the first moment with mul_ and add_ instead of lerp_, the worst
 * error over all cases is below 1e-7.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GoldenOptimizerTest {
  /** The fixture, found from the module directory (Maven) or the repository root (the GPU runner). */
  static final Path GOLDEN =
      Files.isDirectory(Path.of("src/test/resources/golden")) ? Path.of("src/test/resources/golden") : Path.of("lora-optim/src/test/resources/golden");
  private static final double RELATIVE = 1e-6;

  /** Pages of this many bytes hold 125 elements of AdamW state: w [16, 32] streams through in 5 chunks. */
  private static final long SMALL_POOL = 1000;

  private Backend backend;

  @TempDir
  Path tmp;

  /** The device the trajectories run on; the GPU subclass overrides it. */
  Device device() {
    return Device.cpu();
  }

  @BeforeAll
  void open() {
    backend = Backends.open(device());
  }

  @AfterAll
  void close() {
    backend.close();
  }

  @TestFactory
  Stream<DynamicTest> trajectoriesMatchTorch() throws IOException {
    Path json = GOLDEN.resolve("optimizers.json");
    if (!Files.isRegularFile(json)) {
      return Stream.of(DynamicTest.dynamicTest("golden fixture absent", () -> assumeTrue(false,
          "no golden fixture at lora-optim/src/test/resources/golden/optimizers.json (and optimizers.safetensors): run"
              + " tools/golden/optimizers.py where torch is installed (tools/golden/README.md) to record it")));
    }
    JsonObject fixture = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8)).getAsJsonObject();
    Path tensors = json.resolveSibling("optimizers.safetensors");
    String source = "torch " + fixture.get("torch").getAsString();
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement c : fixture.getAsJsonArray("cases")) {
      JsonObject golden = c.getAsJsonObject();
      String name = golden.get("name").getAsString();
      for (boolean paged : golden.get("optimizer").getAsString().equals("adamw") ? new boolean[] {false, true} : new boolean[] {false}) {
        String what = (paged ? "paged " : "") + name + " on " + device() + " vs " + source;
        tests.add(DynamicTest.dynamicTest(what, () -> {
          try (SafetensorsFile file = SafetensorsFile.open(tensors)) {
            run(fixture, golden, file, paged, what);
          }
        }));
      }
    }
    return tests.stream();
  }

  private void run(JsonObject fixture, JsonObject golden, SafetensorsFile file, boolean paged, String what) throws IOException {
    int steps = fixture.get("steps").getAsInt();
    List<Integer> checkpoints = new ArrayList<>();
    fixture.getAsJsonArray("checkpoints").forEach(e -> checkpoints.add(e.getAsInt()));
    Map<String, Parameter> params = new LinkedHashMap<>();
    Map<String, float[]> grads = new LinkedHashMap<>();
    List<Tensor> owned = new ArrayList<>();
    for (JsonElement e : fixture.getAsJsonArray("parameters")) {
      String n = e.getAsJsonObject().get("name").getAsString();
      int[] dims = file.info("init." + n).intShape();
      Tensor value = backend.fromFloats(file.readFloats("init." + n), Shape.of(dims), DType.F32);
      Tensor grad = backend.zeros(Shape.of(dims), DType.F32);
      owned.add(value);
      owned.add(grad);
      params.put(n, new Parameter(n, value, grad));
      grads.put(n, file.readFloats("grads." + n));
    }
    try (Optimizer optimizer = build(golden, params, paged)) {
      for (int t = 0; t < steps; t++) {
        try (Scope _ = backend.scope()) {
          for (Parameter p : params.values()) {
            int n = (int) p.numel();
            float[] g = java.util.Arrays.copyOfRange(grads.get(p.name()), t * n, (t + 1) * n);
            backend.copyInto(backend.fromFloats(g, p.grad().shape(), DType.F32), p.grad());
          }
        }
        StepResult r = optimizer.step();
        if (!r.applied()) {
          fail(what + ": step " + t + " was skipped (gradient norm " + r.gradNorm().value() + ")");
        }
        if (checkpoints.contains(t + 1)) {
          for (Parameter p : params.values()) {
            assertClose(what + ": " + p.name() + " after " + (t + 1) + " steps", backend.toFloats(p.value()), file.readFloats(golden.get("name").getAsString()
                + ".step" + (t + 1) + "." + p.name()));
          }
        }
      }
      Path dir = tmp.resolve(golden.get("name").getAsString());
      optimizer.saveState(dir);
      try (SafetensorsFile saved = SafetensorsFile.open(dir.resolve("optimizer.safetensors"))) {
        String prefix = golden.get("name").getAsString() + ".state.";
        List<String> expected = file.names().stream().filter(n -> n.startsWith(prefix)).map(n -> n.substring(prefix.length())).sorted().toList();
        List<String> actual = saved.names().stream().sorted().toList();
        if (!expected.equals(actual)) {
          fail(what + ": saved state tensors " + actual + ", torch's " + expected);
        }
        for (String n : expected) {
          assertClose(what + ": state " + n + " after " + steps + " steps", saved.readFloats(n), file.readFloats(prefix + n));
        }
      }
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** The optimizer a case describes, built through the public API. */
  private static Optimizer build(JsonObject c, Map<String, Parameter> params, boolean paged) {
    double lr = c.get("lr").getAsDouble();
    OptimizerBuilder<?, ?> builder = switch (c.get("optimizer").getAsString()) {
      case "adamw" -> (paged ? PagedAdamW.builder().pagePoolBytes(SMALL_POOL) : AdamW.builder())
          .betas(c.getAsJsonArray("betas").get(0).getAsDouble(), c.getAsJsonArray("betas").get(1).getAsDouble())
          .eps(c.get("eps").getAsDouble())
          .amsgrad(c.get("amsgrad").getAsBoolean());
      case "sgd" -> SGD.builder()
          .momentum(c.get("momentum").getAsDouble())
          .dampening(c.get("dampening").getAsDouble())
          .nesterov(c.get("nesterov").getAsBoolean());
      default -> throw new AssertionError("unknown optimizer in the fixture: " + c.get("optimizer"));
    };
    builder.weightDecay(c.get("weight_decay").getAsDouble());
    JsonElement clip = c.get("max_grad_norm");
    builder.maxGradNorm(clip == null || clip.isJsonNull() ? 0 : clip.getAsDouble());
    JsonElement schedule = c.get("schedule");
    if (schedule == null || schedule.isJsonNull()) {
      builder.learningRate(lr);
    } else {
      JsonObject s = schedule.getAsJsonObject();
      if (!s.get("type").getAsString().equals("cosine")) {
        throw new AssertionError("unknown schedule in the fixture: " + s);
      }
      LearningRateSchedule cosine = Schedules.cosine(lr, s.get("total").getAsLong()).withWarmupSteps(s.get("warmup").getAsLong());
      builder.learningRate(cosine);
    }
    List<ParameterGroup> groups = new ArrayList<>();
    int i = 0;
    for (JsonElement e : c.getAsJsonArray("groups")) {
      JsonObject g = e.getAsJsonObject();
      List<Parameter> members = new ArrayList<>();
      g.getAsJsonArray("parameters").forEach(n -> members.add(params.get(n.getAsString())));
      ParameterGroup group = ParameterGroup.of("group" + i++, members);
      if (g.has("weight_decay")) {
        group = group.withWeightDecay(g.get("weight_decay").getAsDouble());
      }
      if (g.has("lr")) {
        group = group.withLearningRate(g.get("lr").getAsDouble());
      }
      groups.add(group);
    }
    return builder.build(groups);
  }

  /**
   * {@code max |actual - torch| <= 1e-6 * max |torch|} over the tensor. Elementwise relative error is
   * the wrong measure for these tensors: a parameter or moment that passes near zero carries the
   * rounding noise of the updates that brought it there, which is relative to the step size, not to
   * the value.
   */
  private void assertClose(String what, float[] actual, float[] expected) {
    double max = 0;
    double worstError = 0;
    int worst = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs(expected[i]));
      double err = Math.abs((double) actual[i] - expected[i]);
      if (!(err <= worstError)) {
        worstError = err;
        worst = i;
      }
    }
    double relative = worstError / max;
    if (!(relative <= RELATIVE)) {
      fail(String.format(Locale.ROOT, "%s: max |error| %.3g is %.3g of max |torch| %.4g, more than %.0g; worst element [%d] is %.9g, torch %.9g",
          what, worstError, relative, max, RELATIVE, worst, actual[worst], expected[worst]));
    }
    worstByCase.merge(what.substring(0, what.indexOf(':')), relative, Math::max);
  }

  /** The worst relative error seen per case, logged when the class ends. */
  private final Map<String, Double> worstByCase = new java.util.TreeMap<>();

  @AfterAll
  void report() {
    worstByCase.forEach((c, r) -> System.out.printf(Locale.ROOT, "golden %s: worst max-norm relative error %.2g%n", c, r));
  }
}
