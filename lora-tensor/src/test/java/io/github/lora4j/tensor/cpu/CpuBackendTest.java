package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.ElementwiseContract;
import io.github.lora4j.tensor.testing.FloatRounding;
import io.github.lora4j.tensor.testing.TestArrays;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The elementwise contract on the CPU, and what is the CPU backend's own: discovery, storing 16-bit
 * floats as rounded fp32, the host copies, views, memory accounting and argument checks.
 */
class CpuBackendTest extends ElementwiseContract {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  @Override
  protected DType activationType() {
    return DType.F32;
  }

  @Example
  void backendsOpensCpuForCpuAndForAutoWithoutAGpu() {
    assertTrue(Backends.providers().stream().anyMatch(p -> p instanceof CpuBackendProvider));
    assertTrue(new CpuBackendProvider().unavailableReason().isEmpty());
    try (Backend cpu = Backends.open(Device.cpu()); Backend auto = Backends.open(Device.auto())) {
      assertEquals(Device.cpu(), cpu.device());
      assertEquals(DType.F32, cpu.defaultComputeType(), "the CPU computes in fp32");
      assertEquals(Device.cpu(), auto.device());
      assertInstanceOf(CpuBackend.class, auto);
      assertTrue(cpu.describe().contains("fp32"), cpu.describe());
    }
  }

  @Example
  void providerRefusesOtherDevices() {
    assertThrows(IllegalArgumentException.class, () -> new CpuBackendProvider().open(Device.cuda(0)));
  }

  @Example
  void bf16AndF16AreStoredAsF32RoundedToNearestEven() {
    try (Scope _ = backend.scope()) {
      // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even mantissa, 1.
      // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
      float[] data = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 1f + 0x1p-9f + 0x1p-8f, 3.14159265f, 65520f, Float.NaN};
      Tensor bf = backend.fromFloats(data, Shape.of(6), DType.BF16);
      assertEquals(DType.F32, bf.dtype());
      float[] got = backend.toFloats(bf);
      assertEquals(1f, got[0]);
      assertEquals(1f + 0x1p-6f, got[1]);
      assertEquals(1f + 0x1p-7f, got[2]);
      assertEquals(3.140625f, got[3]);
      assertEquals(65536f, got[4]);
      assertTrue(Float.isNaN(got[5]));

      float[] half = backend.toFloats(backend.fromFloats(data, Shape.of(6), DType.F16));
      assertEquals(1f + 0x1p-8f, half[0], "F16 has 10 mantissa bits and holds 1 + 2^-8 exactly");
      assertEquals(Float.float16ToFloat(Float.floatToFloat16(3.14159265f)), half[3]);
      assertEquals(Float.POSITIVE_INFINITY, half[4], "65520 overflows F16 to inf");
    }
  }

  /** The tests' rounding (written apart from any backend) and the CPU backend's agree on every float, NaN and infinities included. */
  @Property(tries = 2000)
  void testRoundingAgreesWithTheCpuBackend(@ForAll int bits) {
    float v = Float.intBitsToFloat(bits);
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      assertEquals(FloatFormat.round(v, t), FloatRounding.round(v, t), t + " of " + v + " (bits " + Integer.toHexString(bits) + ")");
    }
  }

  @Example
  void fromSegmentConvertsAMemoryMappedBf16File() throws IOException {
    Random rng = new Random(7);
    float[] values = TestArrays.gaussian(rng, 24, 1.0);
    Path file = Files.createTempFile("lora4j-bf16", ".bin");
    try (Arena arena = Arena.ofConfined(); Scope _ = backend.scope()) {
      MemorySegment staging = arena.allocate(values.length * 2L);
      float[] expected = new float[values.length];
      for (int i = 0; i < values.length; i++) {
        short bits = FloatFormat.floatToBf16(values[i]);
        staging.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, bits);
        expected[i] = FloatFormat.bf16ToFloat(bits);
      }
      Files.write(file, staging.toArray(ValueLayout.JAVA_BYTE));
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        Tensor t = backend.fromSegment(mapped, DType.BF16, Shape.of(4, 6), DType.BF16);
        assertArrayEquals(expected, backend.toFloats(t));
        Tensor wide = backend.fromSegment(mapped, DType.BF16, Shape.of(24), DType.F32);
        assertArrayEquals(expected, backend.toFloats(wide));
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Example
  void fromSegmentConvertsEveryStoredType() {
    try (Arena arena = Arena.ofConfined(); Scope _ = backend.scope()) {
      var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
      MemorySegment floats = arena.allocate(3 * 4L);
      float[] fv = {1f + 0x1p-9f, -2.5f, 1e-3f};
      for (int i = 0; i < 3; i++) {
        floats.setAtIndex(f32, i, fv[i]);
      }
      assertArrayEquals(fv, backend.toFloats(backend.fromSegment(floats, DType.F32, Shape.of(3), DType.F32)));
      float[] asBf16 = backend.toFloats(backend.fromSegment(floats, DType.F32, Shape.of(3), DType.BF16));
      assertEquals(1f, asBf16[0]);
      assertEquals(FloatFormat.round(1e-3f, DType.BF16), asBf16[2]);

      MemorySegment halves = arena.allocate(2 * 2L);
      halves.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, Float.floatToFloat16(0.1f));
      halves.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1, Float.floatToFloat16(-7f));
      float[] fromF16 = backend.toFloats(backend.fromSegment(halves, DType.F16, Shape.of(2), DType.F32));
      assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f)), fromF16[0]);
      assertEquals(-7f, fromF16[1]);

      MemorySegment longs = arena.allocate(3 * 8L);
      long[] lv = {0, -5, Integer.MAX_VALUE};
      for (int i = 0; i < 3; i++) {
        longs.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, lv[i]);
      }
      Tensor ids = backend.fromSegment(longs, DType.I64, Shape.of(3), DType.I64);
      assertEquals(DType.I32, ids.dtype());
      assertArrayEquals(new int[] {0, -5, Integer.MAX_VALUE}, backend.toInts(ids));
      longs.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1, 1L << 40);
      long before = backend.currentBytes();
      var e = assertThrows(IllegalArgumentException.class, () -> backend.fromSegment(longs, DType.I64, Shape.of(3), DType.I32));
      assertTrue(e.getMessage().contains("element 1 = 1099511627776"), e.getMessage());
      assertEquals(before, backend.currentBytes(), "the failed tensor is released");

      MemorySegment bytes = arena.allocate(4);
      bytes.copyFrom(MemorySegment.ofArray(new byte[] {0, 1, (byte) 200, (byte) 255}));
      Tensor u8 = backend.fromSegment(bytes, DType.U8, Shape.of(4), DType.U8);
      assertEquals(DType.U8, u8.dtype());
      assertArrayEquals(new int[] {0, 1, 200, 255}, backend.toInts(backend.cast(u8, DType.I32)));

      var wrongSize = assertThrows(IllegalArgumentException.class, () -> backend.fromSegment(floats, DType.F32, Shape.of(2, 2), DType.F32));
      assertTrue(wrongSize.getMessage().startsWith("fromSegment: segment holds 12 bytes but shape [2, 2] of F32 needs 16"), wrongSize.getMessage());
      assertThrows(IllegalArgumentException.class, () -> backend.fromSegment(floats, DType.F32, Shape.of(3), DType.I32));
    }
  }

  @Example
  void hostCopiesVisitLargeTensorsInSlices() {
    try (Scope _ = backend.scope()) {
      float[] data = TestArrays.uniform(new Random(3), 10, -1, 1);
      CpuTensor t = (CpuTensor) backend.fromFloats(data, Shape.of(2, 5), DType.F32);
      List<long[]> slices = new ArrayList<>();
      float[] seen = new float[10];
      HostCopy.forEachChunk(t.array(), 10, 4, 12, (seg, start, count) -> {
        slices.add(new long[] {start, count});
        for (int i = 0; i < count; i++) {
          seen[(int) start + i] = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
          seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, 2 * seen[(int) start + i]);
        }
      });
      assertEquals(4, slices.size(), "slices of 3 elements: 3, 3, 3, 1");
      assertArrayEquals(data, seen);
      float[] doubled = backend.toFloats(t);
      for (int i = 0; i < 10; i++) {
        assertEquals(2 * data[i], doubled[i]);
      }
    }
  }

  @Example
  void reshapeIsAViewThatSharesStorageAndIsCountedOnce() {
    try (Backend own = Backends.open(Device.cpu())) {
      Tensor base = own.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, Shape.of(2, 3), DType.F32);
      assertEquals(24, own.currentBytes());
      Tensor view = own.reshape(base, Shape.of(6));
      assertEquals(24, own.currentBytes(), "a view adds no bytes");
      own.scaleInPlace(view, 10f);
      assertArrayEquals(new float[] {10, 20, 30, 40, 50, 60}, own.toFloats(base));
      base.close();
      assertTrue(base.isClosed());
      assertFalse(view.isClosed());
      assertEquals(24, own.currentBytes(), "the view keeps the storage");
      assertArrayEquals(new float[] {10, 20, 30, 40, 50, 60}, own.toFloats(view));
      view.close();
      view.close();
      base.close();
      assertEquals(0, own.currentBytes());
      assertEquals(24, own.peakBytes());
      own.resetPeakBytes();
      assertEquals(0, own.peakBytes());
      assertThrows(IllegalArgumentException.class, () -> own.toFloats(view), "a closed tensor is refused");
    }
  }

  @Example
  void reshapeRejectsOtherElementCounts() {
    try (Scope _ = backend.scope()) {
      Tensor t = backend.zeros(Shape.of(2, 3), DType.F32);
      var e = assertThrows(IllegalArgumentException.class, () -> backend.reshape(t, Shape.of(4)));
      assertEquals("reshape: cannot view t [2, 3] (6 elements) as [4] (4 elements)", e.getMessage());
    }
  }

  @Example
  void closingTheBackendClosesItsTensors() {
    Backend own = Backends.open(Device.cpu());
    Tensor t = own.zeros(Shape.of(3), DType.F32);
    own.close();
    assertTrue(t.isClosed());
    t.close();
    assertEquals(0, own.currentBytes());
  }

  @Example
  void castConvertsAndRounds() {
    try (Scope _ = backend.scope()) {
      Tensor x = backend.fromFloats(new float[] {1.7f, -1.7f, 1f + 0x1p-9f, 300.5f}, Shape.of(4), DType.F32);
      assertArrayEquals(new int[] {1, -1, 1, 300}, backend.toInts(backend.cast(x, DType.I32)), "truncates toward zero as torch does");
      float[] bf = backend.toFloats(backend.cast(x, DType.BF16));
      assertEquals(FloatFormat.round(1.7f, DType.BF16), bf[0]);
      assertEquals(1f, bf[2]);
      assertEquals(300f, bf[3]);
      Tensor ints = backend.fromInts(new int[] {3, -4}, Shape.of(2));
      assertArrayEquals(new float[] {3f, -4f}, backend.toFloats(backend.cast(ints, DType.F32)));
      Tensor copy = backend.cast(x, DType.F32);
      backend.zeroInPlace(copy);
      assertEquals(1.7f, backend.toFloats(x)[0], "cast copies");
    }
  }

  @Example
  void copyIntoConvertsIntsAndZeroInPlaceClearsInts() {
    try (Scope _ = backend.scope()) {
      Tensor dst = backend.zeros(Shape.of(2, 2), DType.F32);
      backend.copyInto(backend.fromInts(new int[] {1, 2, 3, 4}, Shape.of(4)), backend.reshape(dst, Shape.of(4)));
      assertArrayEquals(new float[] {1, 2, 3, 4}, backend.toFloats(dst));
      Tensor ids = backend.fromInts(new int[] {5, 6}, Shape.of(2));
      backend.zeroInPlace(ids);
      assertArrayEquals(new int[] {0, 0}, backend.toInts(ids));
      var e = assertThrows(IllegalArgumentException.class, () -> backend.copyInto(ids, dst));
      assertEquals("copyInto: src [2] has 2 elements but dst [2, 2] has 4", e.getMessage());
    }
  }

  @Example
  void elementwiseOpsRejectMismatchedShapes() {
    try (Scope _ = backend.scope()) {
      Tensor a = backend.zeros(Shape.of(2, 3), DType.F32);
      Tensor b = backend.zeros(Shape.of(3, 2), DType.F32);
      var e = assertThrows(IllegalArgumentException.class, () -> backend.add(a, b));
      assertEquals("add: a [2, 3] and b [3, 2] must have the same shape", e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> backend.addInPlace(a, b));
      assertThrows(IllegalArgumentException.class, () -> backend.axpy(1f, a, b));
      var ints = assertThrows(IllegalArgumentException.class, () -> backend.toFloats(backend.fromInts(new int[] {1}, Shape.of(1))));
      assertEquals("toFloats: t must be a float tensor, got I32", ints.getMessage());
      var count = assertThrows(IllegalArgumentException.class, () -> backend.fromFloats(new float[5], Shape.of(2, 3), DType.F32));
      assertEquals("fromFloats: 5 values do not fill shape [2, 3] (6 elements)", count.getMessage());
    }
  }
}
