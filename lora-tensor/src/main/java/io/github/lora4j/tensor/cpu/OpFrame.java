package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The NDArrays one op makes. DJL attaches the result of an NDArray operation to the manager of its
 * receiver, so an op borrows its inputs into a fresh sub-manager ({@link NDArray#tempAttach}): every
 * intermediate then lands there and is freed when the frame closes, the inputs go back to the
 * backend's manager, and only what {@link #out} hands over survives.
 *
 * <pre>{@code
 * try (OpFrame f = backend.frame()) {
 *   NDArray x = f.in(xTensor);
 *   return f.out(x.square(), xTensor.shape(), DType.F32);
 * }
 * }</pre>
 */
final class OpFrame implements AutoCloseable {
  private final CpuBackend backend;
  private final NDManager temps;
  private final Set<NDArray> inputs = Collections.newSetFromMap(new IdentityHashMap<>());

  OpFrame(CpuBackend backend) {
    this.backend = backend;
    this.temps = backend.manager().newSubManager();
  }

  /** The array of an input tensor, borrowed into this frame until it closes. */
  NDArray in(Tensor t) {
    NDArray a = ((CpuTensor) t).array();
    if (inputs.add(a)) {
      a.tempAttach(temps);
    }
    return a;
  }

  /** The manager for arrays the op creates from nothing (zeros, constants). */
  NDManager temps() {
    return temps;
  }

  NDArray zeros(Shape shape, DataType type) {
    return temps.zeros(CpuBackend.djlShape(shape), type);
  }

  /**
   * Hands {@code a} out of the frame as a new tensor of {@code shape}. The array is made
   * contiguous (a copy only when it is not, e.g. after a transpose), and copied when it is one of
   * the inputs so that the result never aliases an input. Ops must not return views of inputs.
   */
  CpuTensor out(NDArray a, Shape shape, DType dtype) {
    if (a.getDataType() != CpuBackend.djlType(dtype) || a.getShape().size() != shape.numel()) {
      throw new IllegalStateException("op produced " + a.getDataType() + " " + a.getShape() + ", expected " + dtype + " " + shape);
    }
    NDArray src = inputs.contains(a) ? a.duplicate() : a;
    // Flattening is a view of a contiguous tensor and a contiguous copy of anything else.
    NDArray contiguous = src.reshape(shape.numel()).reshape(CpuBackend.djlShape(shape));
    contiguous.attach(backend.manager());
    return CpuTensor.owning(backend, contiguous, shape, dtype);
  }

  @Override
  public void close() {
    temps.close();
  }
}
