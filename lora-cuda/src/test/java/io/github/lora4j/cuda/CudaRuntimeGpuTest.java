package io.github.lora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.DropoutMask;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.FloatRounding;
import io.github.lora4j.tensor.testing.TestArrays;
import io.github.lora4j.tensor.testing.Tolerance;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * What the GPU backend does besides the ops' math: describing the device, counting and releasing
 * memory, running out of it, refusing closed tensors, drawing the CPU's dropout mask, converting
 * raw bf16 and fp32 data, and views.
 */
@Tag("gpu")
class CudaRuntimeGpuTest {
  private static final ValueLayout.OfShort BF16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cuda(0));
  }

  @AfterContainer
  static void close() {
    if (backend != null) {
      backend.close();
    }
  }

  @Example
  void describesTheDevice() {
    assertInstanceOf(CudaBackend.class, backend);
    assertEquals(Device.cuda(0), backend.device());
    assertFalse(backend.describe().isBlank(), "describe() names the GPU");
    assertEquals(io.github.lora4j.tensor.DType.BF16, backend.defaultComputeType(), "a GPU trains in bf16 unless asked otherwise");
  }

  @Example
  void countsTheBytesOfLiveTensorsAndTheirPeak() {
    long before = backend.currentBytes();
    backend.resetPeakBytes();
    assertEquals(before, backend.peakBytes(), "resetPeakBytes starts the peak at the current bytes");
    long made = 256 * 1024 * 4 + 1000 * 2;
    try (Scope _ = backend.scope()) {
      backend.zeros(Shape.of(256, 1024), DType.F32);
      backend.zeros(Shape.of(1000), DType.BF16);
      assertEquals(before + made, backend.currentBytes(), "1 MiB of F32 and 1000 BF16");
    }
    assertEquals(before, backend.currentBytes(), "the scope released both");
    assertEquals(before + made, backend.peakBytes());
    backend.resetPeakBytes();
    assertEquals(before, backend.peakBytes());
  }

  @Example
  void runningOutOfMemorySaysHowMuchWasAskedForAndWhatWasFree() {
    long before = backend.currentBytes();
    long tib = 1L << 40;
    try (Scope _ = backend.scope()) {
      // 2^20 * 2^18 floats = 1 TiB, more than any GPU has.
      var e = assertThrows(CudaOutOfMemoryException.class, () -> backend.zeros(Shape.of(1 << 20, 1 << 18), DType.F32));
      String message = e.getMessage();
      assertTrue(message.contains(String.format(Locale.ROOT, "%,d", tib)) || message.contains(Long.toString(tib)), "names the " + tib + " bytes asked for: " + message);
      assertTrue(message.contains("free"), "says how much was free: " + message);
    }
    assertEquals(before, backend.currentBytes(), "the failed allocation is not counted");
    try (Scope _ = backend.scope()) {
      assertArrayEquals(new float[] {1, 2}, backend.toFloats(backend.fromFloats(new float[] {1, 2}, Shape.of(2), DType.F32)), "the backend still works");
    }
  }

  @Example
  void aClosedTensorIsRefused() {
    try (Scope _ = backend.scope()) {
      Tensor t = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(4), DType.F32);
      t.close();
      assertTrue(t.isClosed());
      var read = assertThrows(IllegalStateException.class, () -> backend.toFloats(t));
      assertTrue(read.getMessage().contains("closed"), read.getMessage());
      assertThrows(IllegalStateException.class, () -> backend.scaleInPlace(t, 2f));
      t.close();
    }
  }

  /** The kernel's hash is {@link DropoutMask}'s: the same kept elements for the first 100k indices, and the same scale. */
  @Example
  void dropoutDrawsTheCpuMask() {
    assertEquals(3184996902L, DropoutMask.draw(42, 0));
    assertEquals(686809907L, DropoutMask.draw(42, 1));
    assertEquals(1196582743L, DropoutMask.draw(42, 2));
    assertEquals(1478287871L, DropoutMask.draw(42, 3));
    assertEquals(429496736L, DropoutMask.threshold(0.1f));
    int n = 100_000;
    float[] ones = new float[n];
    Arrays.fill(ones, 1f);
    float p = 0.1f;
    long threshold = DropoutMask.threshold(p);
    float scale = 1f / (1f - p);
    for (DType type : new DType[] {DType.F32, DType.BF16}) {
      // Seeds with the low and the high bits set: the kernel must shift and multiply as unsigned 64-bit.
      for (long seed : new long[] {42, 0x9E3779B97F4A7C15L}) {
        float keptValue = FloatRounding.round(scale, type);
        try (Scope _ = backend.scope()) {
          float[] out = backend.toFloats(backend.dropout(backend.fromFloats(ones, Shape.of(n), type), p, seed));
          for (int i = 0; i < n; i++) {
            boolean expected = DropoutMask.keep(seed, i, threshold);
            if ((out[i] != 0f) != expected || (expected && out[i] != keptValue)) {
              fail(String.format(Locale.ROOT, "%s, seed %d, element %d: got %s, expected %s (draw %d, threshold %d)",
                  type, seed, i, out[i], expected ? keptValue : 0f, DropoutMask.draw(seed, i), threshold));
            }
          }
        }
      }
    }
  }

  @Example
  void fromSegmentConvertsBf16AndF32BothWays() {
    float[] values = TestArrays.gaussian(new Random(3), 40, 2);
    // Ties to even (1 + 2^-8 -> 1, 1 + 3 * 2^-8 -> 1 + 2^-6), overflow to bf16's largest power of two, and specials.
    float[] special = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 65520f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -1e-30f};
    System.arraycopy(special, 0, values, 0, special.length);
    float[] rounded = FloatRounding.round(values, DType.BF16);
    Shape shape = Shape.of(5, 8);
    try (Arena arena = Arena.ofConfined(); Scope _ = backend.scope()) {
      MemorySegment bf16 = arena.allocate(values.length * 2L);
      MemorySegment f32 = arena.allocate(values.length * 4L);
      for (int i = 0; i < values.length; i++) {
        bf16.setAtIndex(BF16_LE, i, (short) FloatRounding.bf16Bits(values[i]));
        f32.setAtIndex(F32_LE, i, values[i]);
      }
      Tensor wide = backend.fromSegment(bf16, DType.BF16, shape, DType.F32);
      assertEquals(DType.F32, wide.dtype());
      assertArrayEquals(rounded, backend.toFloats(wide), "BF16 data widened to F32 exactly");
      Tensor kept = backend.fromSegment(bf16, DType.BF16, shape, DType.BF16);
      assertEquals(DType.BF16, kept.dtype());
      assertArrayEquals(rounded, backend.toFloats(kept), "BF16 data kept as BF16");
      Tensor narrow = backend.fromSegment(f32, DType.F32, shape, DType.BF16);
      assertEquals(DType.BF16, narrow.dtype());
      assertArrayEquals(rounded, backend.toFloats(narrow), "F32 data rounded to BF16, to nearest even");
      assertArrayEquals(rounded, backend.toFloats(backend.cast(narrow, DType.F32)), "and widened back exactly");
      Tensor same = backend.fromSegment(f32, DType.F32, shape, DType.F32);
      assertArrayEquals(values, backend.toFloats(same), "F32 data kept as F32");
    }
  }

  @Example
  void reshapeViewsShareStorage() {
    long before = backend.currentBytes();
    try (Scope _ = backend.scope()) {
      Tensor positions = backend.fromInts(new int[] {1}, Shape.of(1));
      Tensor invFreq = backend.fromFloats(new float[] {1f, 0.5f}, Shape.of(2), DType.F32);
      Tensor base = backend.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(1, 4), DType.F32);
      long withBase = backend.currentBytes();
      Tensor view = backend.reshape(base, Shape.of(1, 1, 4));
      assertEquals(withBase, backend.currentBytes(), "a view adds no bytes");
      // Rope at position 1 with invFreq [1, 0.5] through the view rotates the base (hand-checked in RopeContract).
      backend.ropeInPlace(view, positions, invFreq, false);
      double[] rotated = {-1.98411065, -0.16253703, 2.46237790, 4.46918132};
      new Tolerance(2e-6, 2e-6).assertClose("the base after rope through a view", backend.toFloats(base), rotated);
      view.close();
      assertEquals(withBase, backend.currentBytes(), "closing a view frees nothing");
      assertFalse(base.isClosed());
      backend.scaleInPlace(base, 2f);
      new Tolerance(4e-6, 2e-6).assertClose("the base, doubled after its view closed", backend.toFloats(base),
          Arrays.stream(rotated).map(v -> 2 * v).toArray());
    }
    assertEquals(before, backend.currentBytes());
  }
}
