package io.github.lora4j.core.lora;

import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Tensor;

/**
 * One LoRA pair on one projection: {@code out += scaling * B(A(dropout(x)))}, as PEFT's {@code
 * lora.Linear} computes it, with A {@code [r, in]} and B {@code [out, r]} in fp32 and their
 * gradients beside them.
 */
public final class LoraModule implements AutoCloseable {
  private final int layer;
  private final TargetModule target;
  private final Tensor a;
  private final Tensor b;
  private final Tensor gradA;
  private final Tensor gradB;
  private final float scaling;
  private final float dropout;

  LoraModule(int layer, TargetModule target, Tensor a, Tensor b, Tensor gradA, Tensor gradB, float scaling, float dropout) {
    this.layer = layer;
    this.target = target;
    this.a = a;
    this.b = b;
    this.gradA = gradA;
    this.gradB = gradB;
    this.scaling = scaling;
    this.dropout = dropout;
  }

  public int layer() {
    return layer;
  }

  public TargetModule target() {
    return target;
  }

  /** A, {@code [r, in]}. */
  public Tensor a() {
    return a;
  }

  /** B, {@code [out, r]}. */
  public Tensor b() {
    return b;
  }

  public Tensor gradA() {
    return gradA;
  }

  public Tensor gradB() {
    return gradB;
  }

  public float scaling() {
    return scaling;
  }

  /** The PEFT key prefix, {@code base_model.model.model.layers.0.self_attn.q_proj}. */
  public String peftPrefix() {
    return "base_model.model.model.layers." + layer + "." + target.parent() + "." + target.peftName();
  }

  /**
   * Adds this module's output to {@code out [N, out]} for input {@code x [N, in]}. With {@code
   * dropoutSeed >= 0} (training) the input is dropped out with that seed. Returns {@code h = dropout(x)
   * A^T} {@code [N, r]}, which the backward needs.
   */
  public Tensor forwardInto(Backend backend, Tensor x, Tensor out, long dropoutSeed) {
    Tensor h;
    if (usesDropout(dropoutSeed)) {
      try (Tensor xd = backend.dropout(x, dropout, dropoutSeed)) {
        h = backend.matmul(xd, false, a, true);
      }
    } else {
      h = backend.matmul(x, false, a, true);
    }
    backend.gemm(h, false, b, true, scaling, 1f, out);
    return h;
  }

  /**
   * Accumulates the gradients of A and B for the output gradient {@code dOut [N, out]}, and adds the
   * gradient with respect to the input into {@code dx [N, in]}.
   */
  public void backward(Backend backend, Tensor dOut, Tensor x, Tensor h, long dropoutSeed, Tensor dx) {
    // dB += scaling * dOut^T h
    backend.gemm(dOut, true, h, false, scaling, 1f, gradB);
    try (Tensor dh = backend.zeros(h.shape(), h.dtype())) {
      backend.gemm(dOut, false, b, false, scaling, 0f, dh);
      if (usesDropout(dropoutSeed)) {
        // The dropped-out input is regenerated from its seed rather than stored.
        try (Tensor xd = backend.dropout(x, dropout, dropoutSeed)) {
          backend.gemm(dh, true, xd, false, 1f, 1f, gradA);
        }
        try (Tensor dxd = backend.matmul(dh, false, a, false);
            Tensor dxl = backend.dropoutBackward(dxd, dropout, dropoutSeed)) {
          backend.addInPlace(dx, dxl);
        }
      } else {
        backend.gemm(dh, true, x, false, 1f, 1f, gradA);
        backend.gemm(dh, false, a, false, 1f, 1f, dx);
      }
    }
  }

  private boolean usesDropout(long dropoutSeed) {
    return dropoutSeed >= 0 && dropout > 0f;
  }

  @Override
  public void close() {
    a.close();
    b.close();
    gradA.close();
    gradB.close();
  }
}
