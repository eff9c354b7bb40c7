package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * {@link AdamW8bit} trains as well as AdamW on a tiny problem with a quarter of the state, and its
 * paged form gives the same results. The problem: a linear classifier {@code logits = x W^T + b}
 * (W [16, 32], b [16]) learning from 512 examples whose labels a random teacher draws from its
 * softmax, full batch. The drawn labels leave a loss that no weights remove, so the losses that the
 * two optimizers end at are compared where they level off, not near zero.
 */
class AdamW8bitTest {
  private static final int VOCAB = 16;
  private static final int D = 32;
  private static final int N = 512;
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  /** The data set and a student that starts from fixed weights; {@link #run} trains it with an optimizer and returns the loss after each step. */
  static final class TinyProblem implements AutoCloseable {
    final Backend backend;
    final float[] x;
    final int[] labels;
    final Parameter w;
    final Parameter b;

    TinyProblem(long seed) {
      this(AdamW8bitTest.backend, seed);
    }

    TinyProblem(Backend backend, long seed) {
      this.backend = backend;
      Random rng = new Random(seed);
      float[] xs = TestArrays.gaussian(rng, N * D, 1);
      float[] teacher = TestArrays.gaussian(rng, VOCAB * D, 0.5);
      int[] ys = new int[N];
      double[] p = new double[VOCAB];
      for (int n = 0; n < N; n++) {
        double total = 0;
        for (int v = 0; v < VOCAB; v++) {
          double z = 0;
          for (int k = 0; k < D; k++) {
            z += (double) xs[n * D + k] * teacher[v * D + k];
          }
          p[v] = Math.exp(z);
          total += p[v];
        }
        double u = rng.nextDouble() * total;
        int v = 0;
        while (v < VOCAB - 1 && (u -= p[v]) > 0) {
          v++;
        }
        ys[n] = v;
      }
      x = xs;
      labels = ys;
      w = new Parameter("w", backend.fromFloats(TestArrays.gaussian(rng, VOCAB * D, 0.02), Shape.of(VOCAB, D), DType.F32), backend.zeros(Shape.of(VOCAB, D), DType.F32));
      b = new Parameter("b", backend.zeros(Shape.of(VOCAB), DType.F32), backend.zeros(Shape.of(VOCAB), DType.F32));
    }

    /**
     * Mean cross-entropy of the current weights, with its gradients written into the parameters'
     * grads. Computed on the host in double: the model only feeds the optimizers, which run on the
     * backend, and host math keeps 600 steps fast.
     */
    float lossAndGradients() {
      float[] wv = backend.toFloats(w.value());
      float[] bv = backend.toFloats(b.value());
      double[] gw = new double[VOCAB * D];
      double[] gb = new double[VOCAB];
      double[] z = new double[VOCAB];
      double loss = 0;
      for (int n = 0; n < N; n++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < VOCAB; v++) {
          double s = bv[v];
          for (int k = 0; k < D; k++) {
            s += (double) x[n * D + k] * wv[v * D + k];
          }
          z[v] = s;
          max = Math.max(max, s);
        }
        double total = 0;
        for (int v = 0; v < VOCAB; v++) {
          z[v] = Math.exp(z[v] - max);
          total += z[v];
        }
        loss += Math.log(total) - Math.log(z[labels[n]]);
        for (int v = 0; v < VOCAB; v++) {
          double d = (z[v] / total - (v == labels[n] ? 1 : 0)) / N;
          gb[v] += d;
          for (int k = 0; k < D; k++) {
            gw[v * D + k] += d * x[n * D + k];
          }
        }
      }
      try (Scope _ = backend.scope()) {
        backend.copyInto(backend.fromFloats(toFloats(gw), w.grad().shape(), DType.F32), w.grad());
        backend.copyInto(backend.fromFloats(toFloats(gb), b.grad().shape(), DType.F32), b.grad());
      }
      return (float) (loss / N);
    }

    float[] run(Function<Parameter[], Optimizer> make, int steps) {
      float[] losses = new float[steps + 1];
      try (Optimizer opt = make.apply(new Parameter[] {w, b})) {
        for (int s = 0; s < steps; s++) {
          losses[s] = lossAndGradients();
          opt.step();
        }
      }
      losses[steps] = lossAndGradients();
      return losses;
    }

    @Override
    public void close() {
      for (Tensor t : List.of(w.value(), w.grad(), b.value(), b.grad())) {
        t.close();
      }
    }
  }

  static float[] toFloats(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    return f;
  }

  @Example
  void threeHundredStepsEndWithin2PercentOfAdamWsLoss() {
    var schedule = Schedules.cosine(3e-2, 300).withWarmupSteps(10);
    float[] adamw;
    float[] adam8;
    try (TinyProblem p = new TinyProblem(11)) {
      adamw = p.run(ps -> AdamW.builder().learningRate(schedule).build(ps), 300);
    }
    try (TinyProblem p = new TinyProblem(11)) {
      adam8 = p.run(ps -> AdamW8bit.builder().learningRate(schedule).build(ps), 300);
    }
    float first = adamw[0];
    float lastFp32 = adamw[300];
    float last8 = adam8[300];
    assertEquals(first, adam8[0], "the same start");
    assertTrue(lastFp32 < 0.6 * first, "AdamW learns the problem: loss " + first + " -> " + lastFp32);
    double relative = Math.abs(last8 - lastFp32) / lastFp32;
    assertTrue(relative <= 0.02, "final loss: 8-bit " + last8 + ", fp32 " + lastFp32 + ", relative difference " + relative + " > 2%");
    System.out.printf("300 steps: AdamW loss %.5f -> %.5f, AdamW8bit -> %.5f (%.3f%% apart)%n", first, lastFp32, last8, 100 * relative);
  }

  @Example
  void pagedEightBitIsAdamW8bitToTheBit() {
    float[] resident;
    float[] w8;
    float[] paged;
    try (TinyProblem p = new TinyProblem(12)) {
      resident = p.run(ps -> AdamW8bit.builder().learningRate(1e-2).build(ps), 20);
      w8 = backend.toFloats(p.w.value());
    }
    try (TinyProblem p = new TinyProblem(12)) {
      // 520 bytes hold one block's state: W's 512 elements stream through in two pages.
      paged = p.run(ps -> {
        PagedAdamW o = PagedAdamW.builder().optimBits(8).pagePoolBytes(1000).learningRate(1e-2).build(ps);
        assertEquals(256, o.pageElements());
        assertEquals(520, o.stateBytes());
        return o;
      }, 20);
      assertArrayEquals(w8, backend.toFloats(p.w.value()));
    }
    assertArrayEquals(resident, paged);
  }

  @Example
  void stateIsAboutAQuarterOfAdamWs() {
    try (TinyProblem p = new TinyProblem(13); Optimizer fp32 = AdamW.builder().build(p.w, p.b); Optimizer q8 = AdamW8bit.builder().build(p.w, p.b)) {
      // W: 512 + 512 code bytes and 2 + 2 block scales; b: 16 + 16 bytes and 1 + 1 scales.
      assertEquals(2 * 512 + 8 * 2 + 2 * 16 + 8, q8.stateBytes());
      assertEquals(8 * 528, fp32.stateBytes());
      double ratio = (double) q8.stateBytes() / fp32.stateBytes();
      assertTrue(ratio > 0.25 && ratio < 0.26, "8-bit state is " + ratio + " of AdamW's");
    }
  }

  @Example
  void eightBitStateResumesExactlyAndAcrossPaging() throws IOException {
    Path dir = Files.createTempDirectory("lora4j-8bit");
    float[] straight;
    try (TinyProblem p = new TinyProblem(14)) {
      p.run(ps -> AdamW8bit.builder().learningRate(1e-2).build(ps), 6);
      straight = backend.toFloats(p.w.value());
    }
    try (TinyProblem p = new TinyProblem(14)) {
      try (Optimizer first = PagedAdamW.builder().optimBits(8).pagePoolBytes(520).learningRate(1e-2).build(p.w, p.b)) {
        for (int s = 0; s < 3; s++) {
          p.lossAndGradients();
          first.step();
        }
        first.saveState(dir);
      }
      try (Optimizer resumed = AdamW8bit.builder().learningRate(1e-2).build(p.w, p.b)) {
        resumed.loadState(dir);
        for (int s = 0; s < 3; s++) {
          p.lossAndGradients();
          resumed.step();
        }
      }
      assertArrayEquals(straight, backend.toFloats(p.w.value()), "3 paged steps, save, load into AdamW8bit, 3 steps = 6 steps");
    }
  }

  @Example
  void rejectsWhatEightBitsCannotDo() {
    try (TinyProblem p = new TinyProblem(15)) {
      var e = assertThrows(IllegalArgumentException.class, () -> AdamW8bit.builder().amsgrad(true).build(p.w));
      assertEquals("amsgrad is not supported with 8-bit state (bitsandbytes' 8-bit AdamW has none either)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> PagedAdamW.builder().optimBits(16));
      assertEquals("optimBits must be 32 or 8: 16", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> PagedAdamW.builder().optimBits(8).pagePoolBytes(519).build(p.w));
      assertEquals("pagePoolBytes must hold the state of at least 256 parameter element(s), 520 bytes: 519", e.getMessage());
    }
  }
}
