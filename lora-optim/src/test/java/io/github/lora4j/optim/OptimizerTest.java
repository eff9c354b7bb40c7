package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.sched.Schedules;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.TestArrays;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** What every optimizer does around its update: schedule, groups, clipping, skipping, loss scaling, state. On the CPU backend. */
class OptimizerTest {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** Parameters with fixed values, owned by the test (not by a scope). */
  static final class Params implements AutoCloseable {
    final List<Parameter> list = new ArrayList<>();

    Params(long seed, int... sizes) {
      Random rng = new Random(seed);
      for (int i = 0; i < sizes.length; i++) {
        float[] v = TestArrays.gaussian(rng, sizes[i], 1);
        list.add(new Parameter("p" + i, backend.fromFloats(v, Shape.of(sizes[i]), DType.F32), backend.zeros(Shape.of(sizes[i]), DType.F32)));
      }
    }

    Parameter[] array() {
      return list.toArray(Parameter[]::new);
    }

    Parameter get(int i) {
      return list.get(i);
    }

    void setGrads(long seed, double scale) {
      Random rng = new Random(seed);
      try (Scope _ = backend.scope()) {
        for (Parameter p : list) {
          backend.copyInto(backend.fromFloats(TestArrays.gaussian(rng, (int) p.numel(), scale), p.grad().shape(), DType.F32), p.grad());
        }
      }
    }

    float[][] values() {
      return list.stream().map(p -> backend.toFloats(p.value())).toArray(float[][]::new);
    }

    @Override
    public void close() {
      for (Parameter p : list) {
        p.value().close();
        p.grad().close();
      }
    }
  }

  @Example
  void buildersNameTheFieldThatIsWrong() {
    assertMessage("beta1 must be in [0, 1): 1.5", () -> AdamW.builder().betas(1.5, 0.999));
    assertMessage("beta2 must be in [0, 1): 1.0", () -> AdamW.builder().betas(0.9, 1.0));
    assertMessage("eps must be finite and >= 0: -1.0E-8", () -> AdamW.builder().eps(-1e-8));
    assertMessage("weightDecay must be finite and >= 0: NaN", () -> SGD.builder().weightDecay(Double.NaN));
    assertMessage("maxGradNorm must be finite and >= 0: -1.0", () -> SGD.builder().maxGradNorm(-1));
    assertMessage("learningRate must be finite and >= 0: -0.1", () -> AdamW.builder().learningRate(-0.1));
    assertMessage("momentum must be finite and >= 0: -0.9", () -> SGD.builder().momentum(-0.9));
    assertMessage("dampening must be in [0, 1]: 2.0", () -> SGD.builder().dampening(2));
    assertMessage("initScale must be finite and > 0: 0.0", () -> LossScaler.of(0, 2, 0.5f, 2000));
    assertMessage("backoffFactor must be in (0, 1): 1.0", () -> LossScaler.of(1024, 2, 1, 2000));
    try (Params ps = new Params(1, 4)) {
      assertMessage("nesterov needs momentum > 0 and dampening 0: momentum 0.9, dampening 0.1",
          () -> SGD.builder().momentum(0.9).dampening(0.1).nesterov(true).build(ps.get(0)));
      assertMessage("lossScaler needs skipNonFiniteSteps(true): the scale backs off on the steps that are skipped",
          () -> AdamW.builder().lossScaler(LossScaler.dynamic()).skipNonFiniteSteps(false).build(ps.get(0)));
      assertMessage("parameter name 'p0' is used twice",
          () -> AdamW.builder().build(ParameterGroup.of("a", ps.get(0)), ParameterGroup.of("b", new Parameter("p0", ps.get(0).grad(), ps.get(0).value()))));
      assertMessage("parameters 'p0' and 'q' are the same tensor",
          () -> AdamW.builder().build(ParameterGroup.of("a", ps.get(0), new Parameter("q", ps.get(0).value(), ps.get(0).grad()))));
      assertMessage("group 'empty' has no parameters", () -> ParameterGroup.of("empty", List.of()));
      assertMessage("weightDecay of group 'g' must be finite and >= 0: -1.0", () -> ParameterGroup.of("g", ps.get(0)).withWeightDecay(-1));
      try (Scope _ = backend.scope()) {
        assertMessage("parameter 'x': grad [5] must have the shape of value [4]",
            () -> new Parameter("x", ps.get(0).value(), backend.zeros(Shape.of(5), DType.F32)));
        assertMessage("parameter 'x' must be F32 with an F32 grad: value F32, grad I32",
            () -> new Parameter("x", ps.get(0).value(), backend.fromInts(new int[4], Shape.of(4))));
      }
    }
  }

  @Example
  void eachGroupTakesItsOwnRateAndDecayFromTheSchedule() {
    var schedule = Schedules.linear(0.1, 10).withWarmupSteps(2);
    try (Params ps = new Params(2, 6, 3); Params ref = new Params(2, 6, 3)) {
      List<ParameterGroup> groups = List.of(ParameterGroup.of("weights", ps.get(0)),
          ParameterGroup.of("biases", ps.get(1)).withWeightDecay(0).withLearningRate(0.5));
      try (Optimizer opt = AdamW.builder().learningRate(schedule).weightDecay(0.1).maxGradNorm(0).build(groups);
          Scope _ = backend.scope()) {
        Tensor[] m = {backend.zeros(Shape.of(6), DType.F32), backend.zeros(Shape.of(3), DType.F32)};
        Tensor[] v = {backend.zeros(Shape.of(6), DType.F32), backend.zeros(Shape.of(3), DType.F32)};
        for (int k = 0; k < 4; k++) {
          assertEquals(schedule.learningRate(k), opt.learningRate(0), 0);
          assertEquals(0.5 * schedule.factor(k), opt.learningRate(1), 0);
          ps.setGrads(10 + k, 1);
          ref.setGrads(10 + k, 1);
          StepResult r = opt.step();
          assertTrue(r.applied());
          assertEquals(k + 1, r.step());
          assertEquals(schedule.learningRate(k), r.learningRate(), 0);
          long t = k + 1;
          double bc1 = 1 - Math.pow(0.9, t);
          double bc2 = 1 - Math.pow(0.999, t);
          backend.adamwStep(ref.get(0).value(), ref.get(0).grad(), m[0], v[0], null, schedule.learningRate(k), 0.9, 0.999, 1e-8, 0.1, bc1, bc2, 1f);
          backend.adamwStep(ref.get(1).value(), ref.get(1).grad(), m[1], v[1], null, 0.5 * schedule.factor(k), 0.9, 0.999, 1e-8, 0, bc1, bc2, 1f);
        }
        assertArrayEquals(ref.values()[0], ps.values()[0], "weights: the schedule's rate, the optimizer's decay");
        assertArrayEquals(ref.values()[1], ps.values()[1], "biases: their own rate times the schedule's factor, no decay");
        assertEquals(4, opt.stepCount());
      }
    }
  }

  @Example
  void clippingScalesTheUpdateAndReportsTheNormBeforeIt() {
    try (Params ps = new Params(3, 3, 1); Params onDevice = new Params(3, 3, 1); Params ref = new Params(3, 3, 1)) {
      float[] g = {3, 0, 0};
      float[] h = {4};
      for (Params p : List.of(ps, onDevice)) {
        backend.copyInto(backend.fromFloats(g, Shape.of(3), DType.F32), p.get(0).grad());
        backend.copyInto(backend.fromFloats(h, Shape.of(1), DType.F32), p.get(1).grad());
      }
      try (Optimizer opt = SGD.builder().learningRate(0.1).maxGradNorm(1).build(ps.array());
          Optimizer deviceClip = SGD.builder().learningRate(0.1).maxGradNorm(1).skipNonFiniteSteps(false).build(onDevice.array())) {
        StepResult r = opt.step();
        assertEquals(5.0, r.gradNorm().value(), 1e-6, "the norm before clipping");
        float coef = (1f / (5f + 1e-6f)) * 1f;
        float[][] before = ref.values();
        assertArrayEquals(new float[] {Math.fma((float) -0.1, 3 * coef, before[0][0]), before[0][1], before[0][2]}, ps.values()[0]);
        assertArrayEquals(new float[] {Math.fma((float) -0.1, 4 * coef, before[1][0])}, ps.values()[1]);
        StepResult d = deviceClip.step();
        assertFalse(d.gradNorm().isRead(), "without the finite check a step reads nothing back");
        assertArrayEquals(ps.values()[0], onDevice.values()[0], "clipping on the device gives the same update");
        assertArrayEquals(ps.values()[1], onDevice.values()[1]);
        assertEquals(5.0, d.gradNorm().value(), 1e-6);
      }
    }
  }

  @Example
  void aNonFiniteGradientSkipsTheStepAndLeavesEverythingAlone() throws IOException {
    Path dir = Files.createTempDirectory("lora4j-skip");
    try (Params ps = new Params(4, 5, 2); Params fresh = new Params(4, 5, 2);
        Optimizer opt = AdamW.builder().build(ps.array()); Optimizer ref = AdamW.builder().build(fresh.array())) {
      float[][] before = ps.values();
      ps.setGrads(7, 1);
      try (Scope _ = backend.scope()) {
        backend.copyInto(backend.fromFloats(new float[] {1, Float.POSITIVE_INFINITY}, Shape.of(2), DType.F32), ps.get(1).grad());
      }
      StepResult r = opt.step();
      assertFalse(r.applied());
      assertEquals(Double.POSITIVE_INFINITY, r.gradNorm().value());
      assertEquals(0, opt.stepCount());
      assertEquals(1, opt.skippedSteps());
      assertArrayEquals(before[0], ps.values()[0], "no parameter changes");
      assertArrayEquals(before[1], ps.values()[1]);
      opt.saveState(dir);
      // The next good step is the first update, bias corrections and all.
      ps.setGrads(8, 1);
      fresh.setGrads(8, 1);
      opt.step();
      ref.step();
      assertArrayEquals(fresh.values()[0], ps.values()[0]);
      assertArrayEquals(fresh.values()[1], ps.values()[1]);
    }
    try (var file = io.github.lora4j.tensor.safetensors.SafetensorsFile.open(dir.resolve("optimizer.safetensors"))) {
      for (String n : file.names()) {
        for (float f : file.readFloats(n)) {
          assertEquals(0f, f, "state " + n + " is still zero after the skipped step");
        }
      }
    }
  }

  @Example
  void aLossScalerIsDividedOutAndBacksOffOnOverflow() {
    LossScaler scaler = LossScaler.of(1024, 2, 0.5f, 2);
    try (Params ps = new Params(5, 4); Params ref = new Params(5, 4);
        Optimizer opt = AdamW.builder().lossScaler(scaler).build(ps.array()); Optimizer plain = AdamW.builder().build(ref.array())) {
      for (int k = 0; k < 3; k++) {
        float scale = scaler.scale();
        ps.setGrads(20 + k, scale);
        ref.setGrads(20 + k, 1);
        StepResult r = opt.step();
        plain.step();
        assertEquals(plain.stepCount(), r.step());
        assertArrayEquals(ref.values()[0], ps.values()[0], "scaling by a power of two and dividing it out is exact");
      }
      assertEquals(2048f, scaler.scale(), "grew once after 2 good steps");
      try (Scope _ = backend.scope()) {
        backend.copyInto(backend.fromFloats(new float[] {Float.NaN, 0, 0, 0}, Shape.of(4), DType.F32), ps.get(0).grad());
      }
      assertFalse(opt.step().applied());
      assertEquals(1024f, scaler.scale(), "backed off");
      assertEquals(0, scaler.growthTracker());
      assertEquals(1, scaler.backoffs());
    }
  }

  @Example
  void savedStateResumesExactly() throws IOException {
    Path dir = Files.createTempDirectory("lora4j-state");
    var schedule = Schedules.cosine(1e-2, 6).withWarmupSteps(1);
    try (Params a = new Params(6, 7, 3); Params b = new Params(6, 7, 3)) {
      try (Optimizer straight = AdamW.builder().learningRate(schedule).amsgrad(true).build(a.array())) {
        for (int k = 0; k < 5; k++) {
          a.setGrads(30 + k, 1);
          straight.step();
        }
      }
      try (Optimizer first = AdamW.builder().learningRate(schedule).amsgrad(true).build(b.array())) {
        for (int k = 0; k < 3; k++) {
          b.setGrads(30 + k, 1);
          first.step();
        }
        first.saveState(dir);
      }
      try (Optimizer resumed = AdamW.builder().learningRate(schedule).amsgrad(true).build(b.array())) {
        resumed.loadState(dir);
        assertEquals(3, resumed.stepCount());
        for (int k = 3; k < 5; k++) {
          b.setGrads(30 + k, 1);
          resumed.step();
        }
      }
      assertArrayEquals(a.values()[0], b.values()[0], "3 steps, save, load, 2 steps = 5 steps");
      assertArrayEquals(a.values()[1], b.values()[1]);
      String json = Files.readString(dir.resolve("optimizer.json"));
      assertTrue(json.contains("\"optimizer\": \"adamw\"") && json.contains("\"step\": 3"), json);

      try (Optimizer sgd = SGD.builder().momentum(0.9).build(b.array())) {
        assertMessage(dir.resolve("optimizer.json") + ": holds the state of optimizer 'adamw', not 'sgd'", () -> {
          sgd.loadState(dir);
          return null;
        });
      }
      try (Optimizer plainAdam = AdamW.builder().build(b.array())) {
        var e = assertThrows(IllegalArgumentException.class, () -> plainAdam.loadState(dir));
        assertTrue(e.getMessage().contains("unknown [p0.max_exp_avg_sq, p1.max_exp_avg_sq]") || e.getMessage().contains("unknown [p1.max_exp_avg_sq, p0.max_exp_avg_sq]"), e.getMessage());
      }
    }
  }

  @Example
  void stateBytesZeroGradAndClose() {
    try (Params ps = new Params(7, 10, 6)) {
      long before = backend.currentBytes();
      Optimizer adam = AdamW.builder().build(ps.array());
      assertEquals(8 * 16, adam.stateBytes(), "exp_avg and exp_avg_sq: 8 bytes a parameter");
      assertEquals(before + 8 * 16, backend.currentBytes());
      try (Optimizer ams = AdamW.builder().amsgrad(true).build(ps.array()); Optimizer sgd = SGD.builder().build(ps.array());
          Optimizer momentum = SGD.builder().momentum(0.5).build(ps.array())) {
        assertEquals(12 * 16, ams.stateBytes());
        assertEquals(0, sgd.stateBytes());
        assertEquals(4 * 16, momentum.stateBytes());
      }
      ps.setGrads(1, 1);
      adam.step();
      adam.zeroGrad();
      assertArrayEquals(new float[10], backend.toFloats(ps.get(0).grad()));
      adam.close();
      assertEquals(before, backend.currentBytes(), "close frees the state and the last norm");
      assertThrows(IllegalStateException.class, adam::step);
    }
  }

  @Example
  void aNormNotReadBeforeTheNextStepIsGone() {
    try (Params ps = new Params(8, 3); Optimizer opt = SGD.builder().skipNonFiniteSteps(false).build(ps.array())) {
      ps.setGrads(1, 1);
      StepResult first = opt.step();
      opt.step();
      var e = assertThrows(IllegalStateException.class, () -> first.gradNorm().value());
      assertEquals("the gradient norm of a past step was freed before it was read; read it before the next step", e.getMessage());
    }
  }

  private static void assertMessage(String expected, java.util.concurrent.Callable<?> call) {
    var e = assertThrows(IllegalArgumentException.class, call::call);
    assertEquals(expected, e.getMessage());
  }
}
