package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/** Scopes release the CPU backend's tensors: created inside, closed after, unless kept. */
class ScopeTest {
  private Backend backend;

  @BeforeTry
  void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterTry
  void close() {
    backend.close();
  }

  @Example
  void tensorsCreatedInAScopeAreClosedWithIt() {
    Tensor a;
    NormOutput norm;
    Tensor view;
    try (Scope s = backend.scope()) {
      a = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(2, 2), DType.F32);
      norm = backend.rmsNorm(a, backend.fromFloats(new float[] {1, 1}, Shape.of(2), DType.F32), 1e-6f);
      view = backend.reshape(a, Shape.of(4));
      assertEquals(5, s.size(), "a, the weight, the norm's out and rstd, and the view");
      assertTrue(backend.currentBytes() > 0);
    }
    assertTrue(a.isClosed());
    assertTrue(norm.out().isClosed());
    assertTrue(norm.rstd().isClosed());
    assertTrue(view.isClosed());
    assertEquals(0, backend.currentBytes());
  }

  @Example
  void keepMovesATensorToTheEnclosingScope() {
    Tensor kept;
    Tensor dropped;
    try (Scope outer = backend.scope()) {
      try (Scope inner = backend.scope()) {
        kept = inner.keep(backend.zeros(Shape.of(3), DType.F32));
        dropped = backend.zeros(Shape.of(5), DType.F32);
      }
      assertFalse(kept.isClosed());
      assertTrue(dropped.isClosed());
      assertEquals(12, backend.currentBytes());
      assertEquals(1, outer.size());
    }
    assertTrue(kept.isClosed());
    assertEquals(0, backend.currentBytes());
  }

  @Example
  void keptFromTheOutermostScopeBelongsToTheCaller() {
    Tensor weights;
    try (Scope s = backend.scope()) {
      weights = s.keep(backend.fromFloats(new float[] {1, 2}, Shape.of(2), DType.F32));
      backend.zeros(Shape.of(100), DType.F32);
    }
    assertFalse(weights.isClosed());
    assertArrayEquals(new float[] {1, 2}, backend.toFloats(weights));
    assertEquals(8, backend.currentBytes());
    weights.close();
    assertEquals(0, backend.currentBytes());
  }

  @Example
  void aViewClosedByItsScopeLeavesAKeptBaseAlone() {
    Tensor base = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(4), DType.F32);
    try (Scope _ = backend.scope()) {
      Tensor view = backend.reshape(base, Shape.of(2, 2));
      backend.scaleInPlace(view, 2f);
    }
    assertFalse(base.isClosed());
    assertArrayEquals(new float[] {2, 4, 6, 8}, backend.toFloats(base));
    assertEquals(16, backend.currentBytes());
    base.close();
  }

  @Example
  void scopesCloseInnermostFirst() {
    Scope outer = backend.scope();
    Scope inner = backend.scope();
    assertThrows(IllegalStateException.class, outer::close);
    inner.close();
    outer.close();
    outer.close();
  }
}
