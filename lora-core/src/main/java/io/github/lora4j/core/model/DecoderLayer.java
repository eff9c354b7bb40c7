package io.github.lora4j.core.model;

import static io.github.lora4j.core.lora.TargetModule.DOWN_PROJ;
import static io.github.lora4j.core.lora.TargetModule.GATE_PROJ;
import static io.github.lora4j.core.lora.TargetModule.K_PROJ;
import static io.github.lora4j.core.lora.TargetModule.O_PROJ;
import static io.github.lora4j.core.lora.TargetModule.Q_PROJ;
import static io.github.lora4j.core.lora.TargetModule.UP_PROJ;
import static io.github.lora4j.core.lora.TargetModule.V_PROJ;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.tensor.AttentionGrads;
import io.github.lora4j.tensor.AttentionOutput;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.core.lora.TargetModule;
import java.util.EnumMap;
import java.util.Map;

/**
 * One Llama decoder layer, forward and backward side by side: pre-norm attention with rotary
 * embeddings and grouped-query heads, then a pre-norm SwiGLU MLP, each around a residual add. The
 * frozen weights get no gradients; the backward returns the input gradient and accumulates the
 * LoRA gradients of this layer's adapted projections.
 */
final class DecoderLayer {
  private final int index;
  private final ModelConfig config;
  private final LayerWeights weights;

  DecoderLayer(int index, ModelConfig config, LayerWeights weights) {
    this.index = index;
    this.config = config;
    this.weights = weights;
  }

  LayerWeights weights() {
    return weights;
  }

  /**
   * The tensors of a step that every layer shares. With a {@code cache} (generation), {@code seq} is
   * the number of new positions, which attend to the cache instead of only to each other.
   */
  record StepContext(
      Backend backend, int batch, int seq, Tensor positions, Tensor segments, Tensor invFreq, LoraAdapter adapter, long dropoutSeed, CacheStep cache) {
    int rows() {
      return batch * seq;
    }
  }

  /** Where a generation step's keys and values go: {@code cache} at {@code [start, start + seq)}, {@code keyMask} marking padding. */
  record CacheStep(KvCache cache, Tensor keyMask, int start) {}

  LayerActivations forward(Tensor x, StepContext s) {
    Backend be = s.backend();
    int n = s.rows();
    int hq = config.numAttentionHeads();
    int hkv = config.numKeyValueHeads();
    int hd = config.headDim();
    float eps = (float) config.rmsNormEps();
    Map<TargetModule, Tensor> loraHidden = new EnumMap<>(TargetModule.class);

    NormOutput n1 = be.rmsNorm(x, weights.inputNorm(), eps);
    Tensor q = project(Q_PROJ, n1.out(), s, loraHidden);
    Tensor k = project(K_PROJ, n1.out(), s, loraHidden);
    Tensor v = project(V_PROJ, n1.out(), s, loraHidden);
    be.ropeInPlace(be.reshape(q, Shape.of(n, hq, hd)), s.positions(), s.invFreq(), false);
    be.ropeInPlace(be.reshape(k, Shape.of(n, hkv, hd)), s.positions(), s.invFreq(), false);
    AttentionOutput att = s.cache() == null
        ? be.attention(heads(be, q, s, hq), heads(be, k, s, hkv), heads(be, v, s, hkv), s.segments(), attentionScale())
        : new AttentionOutput(
            be.cachedAttention(
                heads(be, q, s, hq), heads(be, k, s, hkv), heads(be, v, s, hkv), s.cache().cache().keys(index), s.cache().cache().values(index),
                s.cache().keyMask(), s.cache().start(), attentionScale()),
            null);
    Tensor attFlat = be.reshape(att.out(), Shape.of(n, hq * hd));
    Tensor o = project(O_PROJ, attFlat, s, loraHidden);
    Tensor mid = be.add(x, o);

    NormOutput n2 = be.rmsNorm(mid, weights.postAttentionNorm(), eps);
    Tensor gate = project(GATE_PROJ, n2.out(), s, loraHidden);
    Tensor up = project(UP_PROJ, n2.out(), s, loraHidden);
    Tensor act = be.swiglu(gate, up);
    Tensor down = project(DOWN_PROJ, act, s, loraHidden);
    Tensor out = be.add(mid, down);
    return new LayerActivations(x, n1, q, k, v, att, attFlat, mid, n2, gate, up, act, out, loraHidden);
  }

  /** Returns the gradient with respect to the layer's input, given the gradient of its output. */
  Tensor backward(Tensor dOut, LayerActivations a, StepContext s) {
    Backend be = s.backend();
    int n = s.rows();
    int hq = config.numAttentionHeads();
    int hkv = config.numKeyValueHeads();
    int hd = config.headDim();

    // MLP block: out = mid + down(swiglu(gate(n2), up(n2)))
    Tensor dAct = be.zeros(a.act().shape(), dOut.dtype());
    projectBackward(DOWN_PROJ, dOut, a.act(), a, s, dAct);
    Tensor[] dGateUp = be.swigluBackward(dAct, a.gate(), a.up());
    Tensor dN2 = be.zeros(a.postNorm().out().shape(), dOut.dtype());
    projectBackward(GATE_PROJ, dGateUp[0], a.postNorm().out(), a, s, dN2);
    projectBackward(UP_PROJ, dGateUp[1], a.postNorm().out(), a, s, dN2);
    Tensor dMid = be.rmsNormBackward(dN2, a.mid(), weights.postAttentionNorm(), a.postNorm().rstd());
    be.addInPlace(dMid, dOut);

    // Attention block: mid = x + o(attention(rope(q(n1)), rope(k(n1)), v(n1)))
    Tensor dAttFlat = be.zeros(a.attentionFlat().shape(), dOut.dtype());
    projectBackward(O_PROJ, dMid, a.attentionFlat(), a, s, dAttFlat);
    AttentionGrads g =
        be.attentionBackward(
            be.reshape(dAttFlat, Shape.of(s.batch(), s.seq(), hq, hd)),
            heads(be, a.q(), s, hq),
            heads(be, a.k(), s, hkv),
            heads(be, a.v(), s, hkv),
            s.segments(),
            attentionScale(),
            a.attention());
    // The backward of a rotation is the rotation by the negative angle.
    be.ropeInPlace(be.reshape(g.dq(), Shape.of(n, hq, hd)), s.positions(), s.invFreq(), true);
    be.ropeInPlace(be.reshape(g.dk(), Shape.of(n, hkv, hd)), s.positions(), s.invFreq(), true);
    Tensor dN1 = be.zeros(a.inputNorm().out().shape(), dOut.dtype());
    projectBackward(Q_PROJ, be.reshape(g.dq(), Shape.of(n, hq * hd)), a.inputNorm().out(), a, s, dN1);
    projectBackward(K_PROJ, be.reshape(g.dk(), Shape.of(n, hkv * hd)), a.inputNorm().out(), a, s, dN1);
    projectBackward(V_PROJ, be.reshape(g.dv(), Shape.of(n, hkv * hd)), a.inputNorm().out(), a, s, dN1);
    Tensor dx = be.rmsNormBackward(dN1, a.input(), weights.inputNorm(), a.inputNorm().rstd());
    be.addInPlace(dx, dMid);
    return dx;
  }

  private Tensor project(TargetModule p, Tensor in, StepContext s, Map<TargetModule, Tensor> loraHidden) {
    Tensor out = s.backend().linear(in, weights.weight(p), weights.bias(p));
    LoraModule lora = s.adapter() == null ? null : s.adapter().module(index, p);
    if (lora != null) {
      loraHidden.put(p, lora.forwardInto(s.backend(), in, out, dropoutSeed(s, p)));
    }
    return out;
  }

  private void projectBackward(TargetModule p, Tensor dOut, Tensor in, LayerActivations a, StepContext s, Tensor dIn) {
    s.backend().gemm(dOut, false, weights.weight(p), false, 1f, 1f, dIn);
    LoraModule lora = s.adapter() == null ? null : s.adapter().module(index, p);
    if (lora != null) {
      lora.backward(s.backend(), dOut, in, a.loraHidden().get(p), dropoutSeed(s, p), dIn);
    }
  }

  /** Each LoRA module draws its own dropout mask, as each PEFT layer has its own nn.Dropout. */
  private long dropoutSeed(StepContext s, TargetModule p) {
    if (s.dropoutSeed() < 0) {
      return -1;
    }
    long z = s.dropoutSeed() * 0x9E3779B97F4A7C15L + index * 64L + p.ordinal() + 1;
    z = (z ^ (z >>> 31)) * 0xBF58476D1CE4E5B9L;
    return (z ^ (z >>> 29)) >>> 1;
  }

  private Tensor heads(Backend be, Tensor flat, StepContext s, int heads) {
    return be.reshape(flat, Shape.of(s.batch(), s.seq(), heads, config.headDim()));
  }

  private float attentionScale() {
    return (float) (1.0 / Math.sqrt(config.headDim()));
  }
}
