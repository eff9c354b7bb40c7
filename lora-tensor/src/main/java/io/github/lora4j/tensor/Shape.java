package io.github.lora4j.tensor;

import java.util.Arrays;

/** An immutable tensor shape; dimensions are non-negative ints, the element count may exceed int. */
public final class Shape {
  private final int[] dims;

  private Shape(int[] dims) {
    this.dims = dims;
  }

  /** A shape with the given dimensions; rank 0 (a scalar) when none are given. */
  public static Shape of(int... dims) {
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new IllegalArgumentException("shape dimension " + i + " must be >= 0: " + Arrays.toString(dims));
      }
    }
    return new Shape(dims.clone());
  }

  public int rank() {
    return dims.length;
  }

  /** Dimension {@code i}; negative {@code i} counts from the end as in numpy. */
  public int dim(int i) {
    return dims[i < 0 ? dims.length + i : i];
  }

  public int[] dims() {
    return dims.clone();
  }

  public long numel() {
    long n = 1;
    for (int d : dims) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** The element count as an int, for host arrays; throws when it does not fit. */
  public int numelInt() {
    long n = numel();
    if (n > Integer.MAX_VALUE) {
      throw new IllegalStateException("tensor of shape " + this + " has " + n + " elements, more than a Java array holds");
    }
    return (int) n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return Arrays.toString(dims);
  }
}
