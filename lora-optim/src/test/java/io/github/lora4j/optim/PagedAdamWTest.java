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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * {@link PagedAdamW} gives AdamW's results to the bit while the device holds no more than its page
 * pool for state. On the CPU backend, whose pinned host tensors are not counted as device memory,
 * so the bound is checked with {@link Backend#peakBytes()}.
 */
class PagedAdamWTest {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  static List<Parameter> params(long seed, int... sizes) {
    Random rng = new Random(seed);
    List<Parameter> list = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      Tensor v = backend.fromFloats(TestArrays.gaussian(rng, sizes[i], 1), Shape.of(sizes[i]), DType.F32);
      list.add(new Parameter("p" + i, v, backend.zeros(Shape.of(sizes[i]), DType.F32)));
    }
    return list;
  }

  static void grads(List<Parameter> ps, long seed) {
    Random rng = new Random(seed);
    try (Scope _ = backend.scope()) {
      for (Parameter p : ps) {
        backend.copyInto(backend.fromFloats(TestArrays.gaussian(rng, (int) p.numel(), 1), p.grad().shape(), DType.F32), p.grad());
      }
    }
  }

  static void free(List<Parameter> ps) {
    for (Parameter p : ps) {
      p.value().close();
      p.grad().close();
    }
  }

  @Property(tries = 15)
  void pagedResultsAreAdamWsAndStateNeverExceedsThePool(@ForAll @IntRange(min = 12, max = 400) int poolBytes, @ForAll boolean amsgrad,
      @ForAll long seed) {
    int[] sizes = {37, 5, 120};
    List<Parameter> a = params(seed, sizes);
    List<Parameter> b = params(seed, sizes);
    var schedule = Schedules.cosine(1e-2, 5).withWarmupSteps(1);
    try (Optimizer adamw = AdamW.builder().learningRate(schedule).amsgrad(amsgrad).weightDecay(0.1).build(a.toArray(Parameter[]::new));
        PagedAdamW paged = PagedAdamW.builder().learningRate(schedule).amsgrad(amsgrad).weightDecay(0.1).pagePoolBytes(poolBytes)
            .build(List.of(ParameterGroup.of("all", b)))) {
      assertTrue(paged.stateBytes() <= poolBytes, "pages " + paged.stateBytes() + " bytes within the pool of " + poolBytes);
      int perElement = amsgrad ? 12 : 8;
      assertEquals(Math.min(poolBytes / perElement, 120), paged.pageElements(), "as many elements as the pool holds, no more than the largest parameter");
      for (int k = 0; k < 5; k++) {
        grads(a, seed + k);
        grads(b, seed + k);
        adamw.step();
        backend.resetPeakBytes();
        long before = backend.currentBytes();
        paged.step();
        // The step's only device allocation is the gradient norm's 4-byte scalar (the previous one is freed first).
        assertTrue(backend.peakBytes() <= before + 4, "peak " + backend.peakBytes() + " during a paged step, from " + before);
      }
      for (int i = 0; i < sizes.length; i++) {
        assertArrayEquals(backend.toFloats(a.get(i).value()), backend.toFloats(b.get(i).value()), "p" + i + " with pages of " + paged.pageElements());
      }
    } finally {
      free(a);
      free(b);
    }
  }

  @Example
  void stateLivesInHostMemoryAndResumesIntoAdamW() throws IOException {
    Path dir = Files.createTempDirectory("lora4j-paged");
    List<Parameter> a = params(9, 300, 7);
    List<Parameter> b = params(9, 300, 7);
    try {
      long before = backend.currentBytes();
      try (Optimizer straight = AdamW.builder().build(a.toArray(Parameter[]::new))) {
        for (int k = 0; k < 4; k++) {
          grads(a, k);
          straight.step();
        }
      }
      try (PagedAdamW paged = PagedAdamW.builder().pagePoolBytes(800).build(b.toArray(Parameter[]::new))) {
        assertEquals(100, paged.pageElements());
        assertEquals(800, paged.stateBytes());
        assertEquals(before + 800, backend.currentBytes(), "on the device: the pages only, not the 2,456 bytes of state");
        for (int k = 0; k < 2; k++) {
          grads(b, k);
          paged.step();
        }
        paged.saveState(dir);
      }
      try (Optimizer resumed = AdamW.builder().build(b.toArray(Parameter[]::new))) {
        resumed.loadState(dir);
        for (int k = 2; k < 4; k++) {
          grads(b, k);
          resumed.step();
        }
      }
      assertArrayEquals(backend.toFloats(a.get(0).value()), backend.toFloats(b.get(0).value()));
      assertArrayEquals(backend.toFloats(a.get(1).value()), backend.toFloats(b.get(1).value()));
      assertEquals(before, backend.currentBytes(), "closing frees the pages");
    } finally {
      free(a);
      free(b);
    }
  }

  @Example
  void aPoolTooSmallForOneElementIsRejected() {
    List<Parameter> a = params(1, 3);
    try {
      var e = assertThrows(IllegalArgumentException.class, () -> PagedAdamW.builder().amsgrad(true).pagePoolBytes(11).build(a.toArray(Parameter[]::new)));
      assertEquals("pagePoolBytes must hold the state of at least 1 parameter element(s), 12 bytes: 11", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> PagedAdamW.builder().pagePoolBytes(0));
      assertEquals("pagePoolBytes must be > 0: 0", e.getMessage());
    } finally {
      free(a);
    }
  }
}
