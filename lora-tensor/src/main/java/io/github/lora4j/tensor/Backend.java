package io.github.lora4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The ops that LoRA training of a Llama-family model needs, forward and backward, on one device.
 *
 * <p>Ops are medium-grained (a layer's op, not every elementwise step) so that a GPU backend can
 * fuse each into one or two kernels. Activations are row-major; a sequence batch is flattened to
 * {@code [N = batch * seq, features]} and viewed as {@code [batch, seq, heads, headDim]} where
 * attention needs it. Every op returns new tensors in the dtype of its float inputs unless it
 * says otherwise; ops whose name ends in {@code InPlace} or that take an output argument write
 * into it. Scalars are passed as Java values, never as device tensors (the one exception, {@link
 * #clipByNormInPlace}, reads a norm that a previous op left on the device, so that clipping needs no
 * host read), so no op synchronises with the host except the {@code to*} copies.
 *
 * <p>Backends are found with {@link Backends#open(Device)}.
 */
public interface Backend extends AutoCloseable {

  Device device();

  /** A one-line description: device name, memory, precision. */
  String describe();

  /**
   * The dtype for frozen weights and activations when the caller names none: F32 here (the CPU
   * computes in fp32 anyway); a GPU backend answers BF16, which its tensor cores run at full speed.
   */
  default DType defaultComputeType() {
    return DType.F32;
  }

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

  /**
   * Copies the elements of {@code t} as stored ({@link Tensor#dtype()}, little-endian) into {@code
   * dst}, which must hold exactly {@code t.numel() * t.dtype().byteSize()} bytes; waits for queued
   * work. The way back of {@link #fromSegment} for any dtype, e.g. to write a checkpoint without a
   * heap copy.
   */
  void toSegment(Tensor t, MemorySegment dst);

  /** Copies a float tensor to the host, widened to float (waits for queued work). */
  float[] toFloats(Tensor t);

  /** Copies an I32 tensor to the host. */
  int[] toInts(Tensor t);

  /** A new tensor with the elements of {@code t} converted to {@code dtype}. */
  Tensor cast(Tensor t, DType dtype);

  /** A view of {@code t} with another shape of the same element count; shares storage. */
  Tensor reshape(Tensor t, Shape shape);

  /**
   * A view of the flat elements {@code [offset, offset + count)} of {@code t} (row-major), of shape
   * {@code [count]}; shares storage, so writes go through. Works on {@link #pinnedHost} tensors too.
   */
  Tensor slice(Tensor t, long offset, long count);

  /**
   * Copies {@code src} into {@code dst} (same element count; dtype converted). Either side may be a
   * {@link #pinnedHost} tensor when both have one dtype: a copy between host and device memory is
   * then queued on the backend's stream like an op, does not wait for it, and ops queued later see
   * its result, so optimizer state can stream through device pages without host synchronisation.
   */
  void copyInto(Tensor src, Tensor dst);

  /** Sets every element of {@code t} to zero. */
  void zeroInPlace(Tensor t);

  /**
   * A zeroed tensor in page-locked host memory, for state that lives off the device (paged optimizer
   * state) and is streamed through device tensors with {@link #copyInto}. Only {@link #copyInto},
   * {@link #slice}, {@link #reshape}, {@link #zeroInPlace}, {@link #toFloats} and {@link #toSegment}
   * accept it; other ops may reject it. Its bytes are not counted in {@link #currentBytes()}, which
   * counts device memory. The CPU backend makes an ordinary tensor that is simply not counted.
   */
  Tensor pinnedHost(Shape shape, DType dtype);

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

  /**
   * Attention of new queries over a key/value cache, for generation (forward only). Writes {@code k}
   * and {@code v} {@code [B, Tq, Hkv, D]} into {@code kCache} and {@code vCache} {@code [B, Tmax,
   * Hkv, D]} at positions {@code [start, start + Tq)}, then attends: query i of row b, at position
   * {@code start + i}, sees cached key j when {@code j <= start + i} and {@code keyMask[b, j] != 0}
   * (I32 {@code [B, Tmax]}; 0 marks left padding). Returns the output {@code [B, Tq, Hq, D]}; a query
   * that sees no key outputs zeros. With {@code keyMask} as the segments, the result equals the rows
   * {@code [start, start + Tq)} of {@link #attention} over the whole sequence, which is how a prompt
   * is prefilled ({@code start = 0}) and then extended one token at a time.
   */
  Tensor cachedAttention(Tensor q, Tensor k, Tensor v, Tensor kCache, Tensor vCache, Tensor keyMask, int start, float scale);

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

  // ---- optimizer steps ----
  //
  // Each step is one op per parameter tensor (one fused kernel on a GPU) that updates the parameter
  // and its state in place. Parameters, gradients and states are F32. Hyperparameters are Java
  // doubles, as torch's Python floats are: a backend derives each per-step constant from them in
  // double and rounds it to float once, exactly where torch rounds a Python scalar to the tensor's
  // float32, so that results agree with torch's bit for bit where the arithmetic below is followed.
  // No step reads anything back to the host.

  /**
   * The sum of the squares of every element of every tensor in {@code xs}, accumulated in fp32, as
   * one F32 tensor of shape []: the squared global norm of a model's gradients, for clipping, in one
   * pass over each tensor and without host synchronisation. The summation order is the backend's
   * (a GPU's varies from run to run in the last bits).
   */
  Tensor sumOfSquares(List<? extends Tensor> xs);

  /**
   * Global-norm clipping as {@code torch.nn.utils.clip_grad_norm_}: multiplies every element of every
   * tensor in {@code xs} by {@code min(1, (1 / (sqrt(sumOfSquares) + 1e-6)) * maxNorm)}, computed in
   * fp32 with one rounding per operation (torch evaluates {@code max_norm / (total_norm + 1e-6)} as
   * a reciprocal times {@code max_norm}) from the F32 [] device scalar {@code sumOfSquares} (from
   * {@link #sumOfSquares(List)}) without reading it back. A non-finite norm makes the coefficient,
   * and so the tensors, non-finite (torch does the same with {@code error_if_nonfinite=False}).
   */
  void clipByNormInPlace(List<? extends Tensor> xs, Tensor sumOfSquares, float maxNorm);

  /**
   * One update of one parameter by {@code torch.optim.AdamW} ({@code foreach=False, fused=False}:
   * the single-tensor arithmetic of torch's Adam with decoupled weight decay), in place on {@code
   * param}, {@code expAvg} (m), {@code expAvgSq} (v) and {@code maxExpAvgSq} (AMSGrad's running
   * maximum of v; null without AMSGrad). All F32 with the element count of {@code param}; {@code
   * grad} is read only.
   *
   * <p>The caller counts steps from 1 and passes {@code biasCorrection1 = 1 - beta1^step} and {@code
   * biasCorrection2 = 1 - beta2^step}, computed in double (1 for no correction). The backend rounds
   * these constants to float once: {@code decay = (float) (1 - lr * weightDecay)}, {@code w =
   * (float) (1 - beta1)}, {@code b2 = (float) beta2}, {@code c2 = (float) (1 - beta2)}, {@code bc2 =
   * (float) sqrt(biasCorrection2)}, {@code e = (float) eps}, {@code s = (float) -(lr /
   * biasCorrection1)}. Each element then takes these float operations, each rounded once, in this
   * order (torch's {@code mul_}, {@code lerp_}, {@code mul_}, {@code addcmul_}, {@code maximum},
   * {@code sqrt}, {@code div}, {@code add_} and {@code addcdiv_} as torch's AVX2 and AVX-512 CPU
   * kernels compute them: {@code lerp_} is an explicit fused multiply-add, and the compiler fuses
   * {@code addcmul_}'s {@code self + (value * t1) * t2}):
   *
   * <pre>
   * g = grad * gradScale                       (only when gradScale != 1)
   * p = p * decay                              (only when weightDecay != 0)
   * m = w &lt; 0.5 ? fma(w, g - m, m) : fma(w - 1, g - m, g)     torch's lerp_(g, w)
   * v = fma(c2 * g, g, v * b2)               torch's mul_(b2).addcmul_(g, g, c2)
   * vMax = max(vMax, v), NaN if either is     (AMSGrad only; u = vMax, else u = v)
   * denom = sqrt(u) / bc2 + e
   * p = p + (s * m) / denom
   * </pre>
   *
   * {@code gradScale} multiplies the gradient as it is read (the inverse loss scale times the
   * clipping coefficient); {@code grad} itself is not changed.
   */
  void adamwStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq,
      double lr, double beta1, double beta2, double eps, double weightDecay,
      double biasCorrection1, double biasCorrection2, float gradScale);

  /**
   * One AdamW update with 8-bit block-wise state, as bitsandbytes' {@code AdamW8bit} stores it: the
   * moments {@code expAvg} and {@code expAvgSq} are U8 codes with the element count of {@code
   * param}, and {@code expAvgAbsmax} and {@code expAvgSqAbsmax} F32 scales, one per block of {@link
   * DynamicQuantization#BLOCK_SIZE} elements ({@link DynamicQuantization#blocks}; the last block may
   * be shorter). Blocks are counted from the tensors' first element. For each block:
   *
   * <pre>
   * m = signedCode[expAvg] * expAvgAbsmax[block]          dequantise, one float product
   * v = unsignedCode[expAvgSq] * expAvgSqAbsmax[block]
   * then the float operations of {@link #adamwStep} on g, p, m and v, without AMSGrad
   * expAvgAbsmax[block] = max |m|, expAvgSqAbsmax[block] = max v     over the block's new values
   * expAvg = quantize(m / expAvgAbsmax[block], signedCode)             and likewise v, unsignedCode
   * </pre>
   *
   * with {@link DynamicQuantization}'s codes and nearest-code {@code quantize}; a block whose absmax
   * is 0 stores the code of 0. The parameter update uses the moments before they are quantised, as
   * bitsandbytes does; only what is stored for the next step is rounded to 8 bits.
   */
  void adamw8bitStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgAbsmax, Tensor expAvgSq, Tensor expAvgSqAbsmax,
      double lr, double beta1, double beta2, double eps, double weightDecay,
      double biasCorrection1, double biasCorrection2, float gradScale);

  /**
   * One update of one parameter by {@code torch.optim.SGD} ({@code foreach=False}), in place on
   * {@code param} and {@code momentumBuffer} (null when {@code momentum == 0}). All F32 with the
   * element count of {@code param}; {@code grad} is read only. {@code firstStep} is true on the
   * parameter's first update, when torch's buffer does not exist yet and is created as a copy of
   * the gradient (no dampening). With the float constants {@code wd = (float) weightDecay}, {@code
   * mu = (float) momentum}, {@code c = (float) (1 - dampening)} and {@code a = (float) -lr}, each
   * element takes (torch's {@code add(alpha=)} is a fused multiply-add on the CPU):
   *
   * <pre>
   * g = grad * gradScale                       (only when gradScale != 1)
   * g = fma(wd, p, g)                          (only when weightDecay != 0)
   * buf = firstStep ? g : fma(c, g, buf * mu)  (only when momentum != 0)
   * g = nesterov ? fma(mu, buf, g) : buf       (only when momentum != 0)
   * p = fma(a, g, p)
   * </pre>
   */
  void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer,
      double lr, double momentum, double dampening, double weightDecay, boolean nesterov,
      boolean firstStep, float gradScale);

  @Override
  void close();
}
