package io.github.lora4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The ops that LoRA training of a Llama-family model needs, forward and backward, on one device.
 *
 * <p>Ops are medium-grained (a layer's op, not every elementwise step) so that a GPU backend can
 * fuse each into one or two kernels. Activations are row-major; a sequence batch is flattened to
 * {@code [N = batch * seq, features]} and viewed as {@code [batch, seq, heads, headDim]} where
 * attention needs it. Every op returns new tensors in the dtype of its float inputs unless it
 * says otherwise; ops whose name ends in {@code InPlace} or that take an output argument write
 * into it. Scalars are passed as Java values, never as device tensors, so no op synchronises with
 * the host except the {@code to*} copies.
 *
 * <p>Backends are found with {@link Backends#open(Device)}.
 */
public interface Backend extends AutoCloseable {

  Device device();

  /** A one-line description: device name, memory, precision. */
  String describe();

  /** Opens a {@link Scope} that releases every tensor this thread creates until it closes. */
  default Scope scope() {
    return Scope.open();
  }

  /** Bytes of device memory held by live tensors. */
  long currentBytes();

  /** The highest {@link #currentBytes()} since the backend opened or {@link #resetPeakBytes()}. */
  long peakBytes();

  void resetPeakBytes();

  /** Waits until all queued work is done (for timing and before reading clocks). */
  void synchronize();

  // ---- creation and host <-> device copies ----

  Tensor zeros(Shape shape, DType dtype);

  /**
   * Copies host floats to a new tensor of {@code dtype} (F32, BF16 or F16; rounding to nearest even).
   * A backend that stores floats in fp32 only (the CPU) returns an F32 tensor holding the values
   * rounded to {@code dtype}; {@link Tensor#dtype()} says what is stored.
   */
  Tensor fromFloats(float[] data, Shape shape, DType dtype);

  /** Copies host ints to a new I32 tensor. */
  Tensor fromInts(int[] data, Shape shape);

  /**
   * Copies raw little-endian elements of {@code srcType} (e.g. a memory-mapped safetensors slice)
   * to a new tensor of {@code dtype}, converting on the way. Lets weights go from disk to device
   * without a heap copy of the whole tensor.
   */
  Tensor fromSegment(MemorySegment src, DType srcType, Shape shape, DType dtype);

  /** Copies a float tensor to the host, widened to float (waits for queued work). */
  float[] toFloats(Tensor t);

  /** Copies an I32 tensor to the host. */
  int[] toInts(Tensor t);

  /** A new tensor with the elements of {@code t} converted to {@code dtype}. */
  Tensor cast(Tensor t, DType dtype);

  /** A view of {@code t} with another shape of the same element count; shares storage. */
  Tensor reshape(Tensor t, Shape shape);

  /** Copies {@code src} into {@code dst} (same element count; dtype converted). */
  void copyInto(Tensor src, Tensor dst);

  /** Sets every element of {@code t} to zero. */
  void zeroInPlace(Tensor t);

  // ---- elementwise and reductions ----

  /** {@code a + b}, same shapes (the residual add). */
  Tensor add(Tensor a, Tensor b);

  /** {@code acc += x}, same shapes. */
  void addInPlace(Tensor acc, Tensor x);

  /** {@code x *= alpha}. */
  void scaleInPlace(Tensor x, float alpha);

  /** {@code y += alpha * x}, same shapes. */
  void axpy(float alpha, Tensor x, Tensor y);

  /** The sum of squares of all elements, accumulated in fp32, as an F32 tensor of shape []. */
  Tensor sumOfSquares(Tensor x);

  // ---- matrix products ----

  /**
   * {@code c = alpha * op(a) @ op(b) + beta * c}, where op transposes the last two dims when asked.
   * 2-D operands, or 3-D with equal leading (batch) dims. Accumulates in fp32.
   */
  void gemm(Tensor a, boolean transA, Tensor b, boolean transB, float alpha, float beta, Tensor c);

  /** {@code op(a) @ op(b)} as a new tensor (see {@link #gemm}). */
  Tensor matmul(Tensor a, boolean transA, Tensor b, boolean transB);

  /**
   * A frozen linear layer, {@code x @ weight^T + bias}: x {@code [N, in]}, weight {@code [out, in]}
   * as transformers stores it, bias {@code [out]} or null.
   */
  Tensor linear(Tensor x, Tensor weight, Tensor bias);

  // ---- layers ----

  /** Rows of {@code table [V, D]} picked by I32 {@code ids [N]}; ids outside [0, V) are an error. */
  Tensor embedding(Tensor table, Tensor ids);

  /**
   * RMSNorm as Llama has it: {@code weight * (x * rsqrt(mean(x^2) + eps))}, statistics in fp32.
   * Returns the output and the per-row reciprocal RMS (F32 {@code [N]}) that the backward needs.
   */
  NormOutput rmsNorm(Tensor x, Tensor weight, float eps);

  /** Gradient of {@link #rmsNorm} with respect to x (the weight is frozen). */
  Tensor rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor rstd);

  /**
   * Rotary position embedding in place on {@code x [N, heads, headDim]} with Hugging Face's
   * {@code rotate_half} convention (the first and second halves of each head are the pairs), angles
   * {@code positions[n] * invFreq[i]} computed in fp32. {@code inverse} rotates by the negative
   * angle, which is the backward of the forward rotation.
   */
  void ropeInPlace(Tensor x, Tensor positions, Tensor invFreq, boolean inverse);

  /**
   * Causal grouped-query attention. q {@code [B, T, Hq, D]}, k and v {@code [B, T, Hkv, D]} with
   * Hq a multiple of Hkv. Query i of a row sees key j when {@code j <= i} and {@code segments[b, j]
   * != 0} and, for a query inside a segment, {@code segments[b, i] == segments[b, j]}: an attention
   * mask of ones and zeros is a valid segment map, and packed rows number their examples 1, 2, ...
   * so that no example attends to another. {@code segments} may be null (all tokens one segment).
   * A query that may see no key (padding before the first real token) outputs zeros and gets zero
   * gradients.
   */
  AttentionOutput attention(Tensor q, Tensor k, Tensor v, Tensor segments, float scale);

  /** Gradients of {@link #attention} with respect to q, k and v. */
  AttentionGrads attentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, AttentionOutput forward);

  /** {@code silu(gate) * up}, the SwiGLU of Llama's MLP. */
  Tensor swiglu(Tensor gate, Tensor up);

  /** Gradients of {@link #swiglu}: {@code [dGate, dUp]}. */
  Tensor[] swigluBackward(Tensor dOut, Tensor gate, Tensor up);

  /**
   * Inverted dropout: each element is kept with probability {@code 1 - p} and scaled by {@code
   * 1/(1-p)}. The mask is a pure function of {@code (seed, element index)} (see {@link
   * DropoutMask}), so the backward regenerates it and every backend draws the same mask. The index
   * is the element's flat row-major index; the output is {@code x * (kept ? 1f / (1f - p) : 0f)} with
   * the scale rounded to float once, so backends agree bit for bit. {@code p = 0} returns a copy.
   */
  Tensor dropout(Tensor x, float p, long seed);

  /** The backward of {@link #dropout}: the same mask and scale applied to {@code dOut}. */
  default Tensor dropoutBackward(Tensor dOut, float p, long seed) {
    return dropout(dOut, p, seed);
  }

  /**
   * Cross-entropy of {@code logits [N, V]} against I32 {@code labels [N]}, summed over the rows whose
   * label is not {@code ignoreIndex}; callers divide by the count of such rows (known on the host).
   * Returns an F32 tensor of shape [] (log-softmax in fp32). Ignored rows are skipped, so NaN logits
   * there do not reach the loss; a label outside {@code [0, V)} that is not {@code ignoreIndex} is an
   * error.
   */
  Tensor crossEntropySum(Tensor logits, Tensor labels, int ignoreIndex);

  /**
   * The gradient of {@code scale * crossEntropySum}: {@code scale * (softmax(logits) - onehot)} on
   * counted rows and zero on ignored ones, in the dtype of the logits.
   */
  Tensor crossEntropyBackward(Tensor logits, Tensor labels, int ignoreIndex, float scale);

  @Override
  void close();
}
