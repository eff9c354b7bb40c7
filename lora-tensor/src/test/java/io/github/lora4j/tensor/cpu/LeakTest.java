package io.github.lora4j.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.testing.TestArrays;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import net.jqwik.api.Example;

/**
 * Every op, forward and backward, 200 times in scopes: afterwards the backend counts the bytes it
 * started with and DJL's manager holds exactly the arrays of the tensors that are still open, so a
 * long training run does not grow.
 */
class LeakTest {
  static final int STEPS = 200;

  @Example
  void everyOpReleasesEverythingItMade() {
    try (CpuBackend backend = (CpuBackend) Backends.open(Device.cpu()); Arena arena = Arena.ofConfined()) {
      Random rng = new Random(1);
      int b = 2, t = 4, hq = 4, hkv = 2, d = 4, n = b * t, hidden = hq * d, vocab = 11;
      Tensor table = backend.fromFloats(TestArrays.gaussian(rng, vocab * hidden, 1), Shape.of(vocab, hidden), DType.F32);
      Tensor normWeight = backend.fromFloats(TestArrays.uniform(rng, hidden, 0.5f, 1.5f), Shape.of(hidden), DType.F32);
      Tensor proj = backend.fromFloats(TestArrays.gaussian(rng, hidden * hidden, 0.2), Shape.of(hidden, hidden), DType.F32);
      Tensor bias = backend.zeros(Shape.of(hidden), DType.F32);
      Tensor invFreq = backend.fromFloats(new float[] {1f, 0.01f}, Shape.of(d / 2), DType.F32);
      Tensor gradAccumulator = backend.zeros(Shape.of(hidden, hidden), DType.F32);
      MemorySegment raw = arena.allocate(hidden * 2L);
      long startBytes = backend.currentBytes();
      int startArrays = backend.manager().getManagedArrays().size();

      for (int step = 0; step < STEPS; step++) {
        try (Scope _ = backend.scope()) {
          Tensor ids = backend.fromInts(TestArrays.ints(rng, n, 0, vocab), Shape.of(n));
          Tensor x = backend.embedding(table, ids);
          NormOutput norm = backend.rmsNorm(x, normWeight, 1e-5f);
          Tensor h = backend.linear(norm.out(), proj, bias);
          Tensor q = backend.reshape(backend.matmul(h, false, proj, true), Shape.of(n, hq, d));
          backend.ropeInPlace(q, backend.fromInts(TestArrays.ints(rng, n, 0, 100), Shape.of(n)), invFreq, false);
          Tensor k = backend.fromFloats(TestArrays.gaussian(rng, b * t * hkv * d, 1), Shape.of(b, t, hkv, d), DType.F32);
          Tensor seg = backend.fromInts(new int[] {1, 1, 2, 0, 0, 1, 1, 1}, Shape.of(b, t));
          Tensor q4 = backend.reshape(q, Shape.of(b, t, hq, d));
          AttentionOutput att = backend.attention(q4, k, k, seg, 0.5f);
          Tensor attOut = backend.reshape(att.out(), Shape.of(n, hidden));
          Tensor mlp = backend.swiglu(attOut, h);
          Tensor dropped = backend.dropout(mlp, 0.1f, step);
          Tensor logits = backend.add(backend.matmul(dropped, false, table, true), backend.zeros(Shape.of(n, vocab), DType.F32));
          Tensor labels = backend.fromInts(new int[] {1, 2, -100, 3, 4, 5, -100, 6}, Shape.of(n));
          backend.toFloats(backend.crossEntropySum(logits, labels, -100));

          Tensor dLogits = backend.crossEntropyBackward(logits, labels, -100, 1f / 6);
          Tensor dMlp = backend.dropoutBackward(backend.matmul(dLogits, false, table, false), 0.1f, step);
          Tensor[] dSwiglu = backend.swigluBackward(dMlp, attOut, h);
          AttentionGrads dAtt = backend.attentionBackward(backend.reshape(dSwiglu[0], Shape.of(b, t, hq, d)), q4, k, k, seg, 0.5f, att);
          Tensor dq = backend.reshape(dAtt.dq(), Shape.of(n, hq, d));
          backend.ropeInPlace(dq, backend.fromInts(new int[n], Shape.of(n)), invFreq, true);
          backend.gemm(backend.reshape(dq, Shape.of(n, hidden)), true, h, false, 1f, 1f, gradAccumulator);
          Tensor dx = backend.rmsNormBackward(dSwiglu[1], x, normWeight, norm.rstd());
          backend.axpy(0.5f, dx, x);
          backend.addInPlace(x, dx);
          backend.scaleInPlace(x, 0.9f);
          backend.toFloats(backend.sumOfSquares(x));
          backend.copyInto(backend.cast(x, DType.BF16), backend.zeros(Shape.of(n * hidden), DType.F32));
          backend.zeroInPlace(x);
          backend.toFloats(backend.fromSegment(raw, DType.BF16, Shape.of(hidden), DType.F32));
        }
        assertEquals(startBytes, backend.currentBytes(), "bytes after step " + step);
        assertEquals(startArrays, backend.manager().getManagedArrays().size(), "DJL arrays after step " + step);
      }
      backend.zeroInPlace(gradAccumulator);
      assertEquals(startBytes, backend.currentBytes());
      assertEquals(startArrays, backend.manager().getManagedArrays().size());
    }
  }
}
