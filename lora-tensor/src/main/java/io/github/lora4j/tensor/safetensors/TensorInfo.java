package io.github.lora4j.tensor.safetensors;

import io.github.lora4j.tensor.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's entry in a safetensors header: its name, dtype and shape (row-major, as torch
 * stores it). A shape of length 0 is a scalar with one element.
 *
 * @param name the tensor's name, e.g. {@code "model.layers.0.self_attn.q_proj.weight"}
 * @param dtype the element type
 * @param shape the dimensions, each at least 0; the record keeps and hands out copies
 */
public record TensorInfo(String name, DType dtype, long[] shape) {

  /**
   * Checks the shape and copies it.
   *
   * @throws IllegalArgumentException for a negative dimension
   * @throws ArithmeticException when the element count overflows a long
   */
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape must have no negative dimension: " + Arrays.toString(shape));
      }
    }
    numel(shape);
  }

  /** A copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /** The dimensions as ints, for the common case where each fits. */
  public int[] intShape() {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.toIntExact(shape[i]);
    }
    return s;
  }

  /** The number of elements: the product of the dimensions, 1 for a scalar. */
  public long numel() {
    return numel(shape);
  }

  /** The number of bytes the data takes: {@code numel() * dtype().byteSize()}. */
  public long byteSize() {
    return Math.multiplyExact(numel(), dtype.byteSize());
  }

  /**
   * The product of {@code shape}.
   *
   * @throws ArithmeticException if it does not fit in a long
   */
  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + " " + dtype.safetensorsName() + " " + Arrays.toString(shape);
  }
}
