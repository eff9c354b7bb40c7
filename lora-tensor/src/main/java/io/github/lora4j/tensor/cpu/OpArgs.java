package io.github.lora4j.tensor.cpu;

import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;

/**
 * Argument checks shared by the ops. Each failure is an {@link IllegalArgumentException} that names
 * the op, the argument and the shapes involved, e.g. {@code "rmsNorm: x must be [N, D], got [2, 3, 4]"}.
 */
final class OpArgs {
  private OpArgs() {}

  static IllegalArgumentException error(String op, String format, Object... args) {
    return new IllegalArgumentException(op + ": " + String.format(java.util.Locale.ROOT, format, args));
  }

  /** {@code t} is a live tensor of {@code backend}. */
  static CpuTensor tensor(CpuBackend backend, String op, String name, Tensor t) {
    if (t == null) {
      throw error(op, "%s must not be null", name);
    }
    if (!(t instanceof CpuTensor c) || c.backend() != backend) {
      throw error(op, "%s belongs to another backend (%s), not this CPU backend", name, t.device());
    }
    if (c.isClosed()) {
      throw error(op, "%s %s is closed", name, t.shape());
    }
    return c;
  }

  /** {@code t} is a live tensor of {@code backend} with rank {@code rank}; {@code layout} names the dims, e.g. "[N, D]". */
  static CpuTensor tensor(CpuBackend backend, String op, String name, Tensor t, String layout) {
    CpuTensor c = tensor(backend, op, name, t);
    int rank = layout.isEmpty() || layout.equals("[]") ? 0 : layout.split(",").length;
    if (c.shape().rank() != rank) {
      throw error(op, "%s must be %s, got %s", name, layout, c.shape());
    }
    return c;
  }

  static void floatType(String op, String name, Tensor t) {
    if (!t.dtype().isFloatingPoint()) {
      throw error(op, "%s must be a float tensor, got %s", name, t.dtype());
    }
  }

  static void dtype(String op, String name, Tensor t, DType want) {
    if (t.dtype() != want) {
      throw error(op, "%s must be %s, got %s", name, want, t.dtype());
    }
  }

  static void sameShape(String op, String nameA, Tensor a, String nameB, Tensor b) {
    if (!a.shape().equals(b.shape())) {
      throw error(op, "%s %s and %s %s must have the same shape", nameA, a.shape(), nameB, b.shape());
    }
  }

  static void shape(String op, String name, Tensor t, Shape want) {
    if (!t.shape().equals(want)) {
      throw error(op, "%s must be %s, got %s", name, want, t.shape());
    }
  }
}
