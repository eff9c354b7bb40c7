package io.github.lora4j.tensor.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Host copies and the elementwise ops: {@code fromFloats}, {@code add}, {@code axpy}, {@code sumOfSquares}, ... (see {@link OpContract}). */
public abstract class ElementwiseContract extends OpContract {

  @Example
  void fromFloatsStoresValuesRoundedToNearestEven() {
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7 and goes to the even one, 1;
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6 and goes to 1 + 2^-6; 65520 rounds up to 65536.
    float[] data = {1.5f, -2.25f, 3.1f, Float.NaN, Float.POSITIVE_INFINITY, -0f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f,
        1f + 0x1p-9f + 0x1p-8f, 3.14159265f, 65520f, -1e-3f, Float.MIN_NORMAL};
    try (Scope _ = backend().scope()) {
      Tensor t = upload(data, Shape.of(data.length));
      assertEquals(Shape.of(data.length), t.shape());
      assertArrayEquals(stored(data), download("fromFloats", t), "fromFloats then toFloats gives the values rounded to " + activationType());
    }
  }

  @Property(tries = 20)
  void elementwiseOpsMatchJava(@ForAll @IntRange(min = 1, max = 40) int n, @ForAll long seed) {
    Random rng = new Random(seed);
    float[] a = stored(TestArrays.gaussian(rng, n, 1));
    float[] b = stored(TestArrays.gaussian(rng, n, 1));
    float alpha = (float) rng.nextGaussian();
    try (Scope _ = backend().scope()) {
      Tensor ta = upload(a, Shape.of(n));
      Tensor tb = upload(b, Shape.of(n));
      float[] sum = new float[n];
      double[] axpy = new double[n];
      double ss = 0;
      for (int i = 0; i < n; i++) {
        // One fp32 add of exactly stored inputs, then one rounding to the stored type: bit for bit.
        sum[i] = storedOutput(a[i] + b[i]);
        axpy[i] = b[i] + (double) alpha * a[i];
        ss += (double) a[i] * a[i];
      }
      assertArrayEquals(sum, download("add", backend().add(ta, tb)));
      Tensor acc = upload(a, Shape.of(n));
      backend().addInPlace(acc, tb);
      assertArrayEquals(sum, download("addInPlace", acc));

      Tensor y = upload(b, Shape.of(n));
      backend().axpy(alpha, ta, y);
      float[] got = download("axpy", y);
      // c = 2: the output is rounded once (a fused multiply-add or not), S = |y + alpha x|.
      tolerance(new Tolerance(1e-6, 1e-6), 2, TestArrays.maxAbs(axpy), "y + alpha x rounded once").assertClose("axpy", got, axpy);
      backend().scaleInPlace(y, 0.5f);
      float[] half = new float[n];
      for (int i = 0; i < n; i++) {
        half[i] = got[i] * 0.5f;
      }
      assertArrayEquals(half, download("scaleInPlace", y), "halving is exact");

      Tensor sq = backend().sumOfSquares(ta);
      assertEquals(Shape.of(), sq.shape());
      assertEquals(DType.F32, sq.dtype());
      // fp32 accumulation of n <= 40 squares of stored values: relative error below n * 2^-24, whatever the input type.
      new Tolerance(0, 40 * 0x1p-24).assertClose("sumOfSquares", backend().toFloats(sq)[0], ss);
    }
  }

  @Example
  void toSegmentCopiesTheStoredElements() {
    float[] data = {1.5f, -2.25f, 3.1f, Float.NaN, -0f};
    try (Scope _ = backend().scope(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      Tensor t = upload(data, Shape.of(data.length));
      var bytes = arena.allocate(data.length * (long) t.dtype().byteSize());
      backend().toSegment(t, bytes);
      Tensor back = backend().fromSegment(bytes, t.dtype(), t.shape(), t.dtype());
      assertArrayEquals(stored(data), download("toSegment then fromSegment", back));
      Tensor ints = backend().fromInts(new int[] {7, -1, Integer.MIN_VALUE}, Shape.of(3));
      var intBytes = arena.allocate(12);
      backend().toSegment(ints, intBytes);
      assertArrayEquals(new int[] {7, -1, Integer.MIN_VALUE},
          intBytes.toArray(java.lang.foreign.ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN)), "I32 as stored, little-endian");
    }
  }

  @Example
  void pinnedHostTensorsCopyToAndFromTheDeviceThroughSlices() {
    float[] data = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    try (Scope _ = backend().scope()) {
      Tensor dev = upload(data, Shape.of(10));
      long before = backend().currentBytes();
      Tensor host = backend().pinnedHost(Shape.of(2, 5), dev.dtype());
      assertEquals(before, backend().currentBytes(), "pinned host memory is not counted as device memory");
      Tensor back = upload(new float[10], Shape.of(10));
      backend().copyInto(host, back);
      assertArrayEquals(new float[10], download("pinnedHost starts zeroed", back));
      backend().copyInto(dev, host);
      backend().copyInto(backend().slice(host, 3, 4), backend().slice(back, 0, 4));
      assertArrayEquals(new float[] {3, 4, 5, 6, 0, 0, 0, 0, 0, 0}, download("host slice to device slice", back));
      backend().zeroInPlace(backend().slice(host, 0, 5));
      backend().copyInto(backend().slice(dev, 8, 2), backend().slice(host, 0, 2));
      backend().copyInto(host, back);
      assertArrayEquals(new float[] {8, 9, 0, 0, 0, 5, 6, 7, 8, 9}, download("device slice to host slice, after zeroing a host slice", back));
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> backend().slice(host, 6, 5));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("slice: elements [6, 6 + 5) are not within t [2, 5]"), e.getMessage());
    }
  }

  @Example
  void zeroInPlaceAndCopyIntoWriteThroughViews() {
    try (Scope _ = backend().scope()) {
      Tensor dst = upload(new float[] {Float.NaN, 1, Float.POSITIVE_INFINITY, 3}, Shape.of(2, 2));
      Tensor view = backend().reshape(dst, Shape.of(4));
      backend().zeroInPlace(view);
      assertArrayEquals(new float[] {0, 0, 0, 0}, download("zeroInPlace", dst), "NaN and inf are cleared, not multiplied by 0");
      backend().copyInto(upload(new float[] {1, 2, 3, 4}, Shape.of(4)), view);
      assertArrayEquals(new float[] {1, 2, 3, 4}, download("copyInto", dst));
    }
  }
}
