package io.github.lora4j.core.model;

import io.github.lora4j.core.lora.TargetModule;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.data.TokenBatch;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.NormOutput;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-family causal language model (Llama 2/3/3.1/3.2, Mistral, Qwen2) with frozen weights on
 * a {@link Backend}, run with explicit forward and backward passes: the backward computes the
 * gradients of a {@link LoraAdapter} and the input gradients through the frozen layers, nothing
 * else.
 *
 * <pre>{@code
 * try (Backend cpu = Backends.open(Device.cpu());
 *     LlamaModel model = LlamaModel.load(dir, cpu, DType.F32)) { ... }
 * }</pre>
 */
public final class LlamaModel implements AutoCloseable {
  private final ModelConfig config;
  private final Backend backend;
  private final DType dtype;
  private final Tensor embedTokens;
  private final Tensor finalNorm;
  private final Tensor lmHead;
  private final List<DecoderLayer> layers;
  private final Tensor invFreq;
  private boolean gradientCheckpointing;

  private LlamaModel(ModelConfig config, Backend backend, DType dtype, Tensor embedTokens, Tensor finalNorm, Tensor lmHead, List<DecoderLayer> layers) {
    this.config = config;
    this.backend = backend;
    this.dtype = dtype;
    this.embedTokens = embedTokens;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.layers = List.copyOf(layers);
    this.invFreq =
        Scope.detached(() -> backend.fromFloats(config.ropeInverseFrequencies(), Shape.of(config.headDim() / 2), DType.F32));
  }

  /** Loads {@code config.json} and the safetensors weights of a Hugging Face model directory. */
  public static LlamaModel load(Path dir, Backend backend, DType dtype) throws IOException {
    ModelConfig config = ModelConfig.load(dir);
    try (CheckpointWeights weights = CheckpointWeights.open(dir)) {
      return create(config, backend, dtype, weights);
    }
  }

  /** Builds a model of {@code config} from {@code source}, converting weights to {@code dtype}. */
  public static LlamaModel create(ModelConfig config, Backend backend, DType dtype, WeightSource source) {
    return Scope.detached(() -> build(config, backend, dtype, source));
  }

  private static LlamaModel build(ModelConfig config, Backend backend, DType dtype, WeightSource source) {
    List<Tensor> loaded = new ArrayList<>();
    try {
      int v = config.vocabSize();
      int d = config.hiddenSize();
      Tensor embed = track(loaded, source.load("model.embed_tokens.weight", Shape.of(v, d), backend, dtype));
      List<DecoderLayer> layers = new ArrayList<>();
      for (int i = 0; i < config.numHiddenLayers(); i++) {
        String prefix = "model.layers." + i + ".";
        Tensor inNorm = track(loaded, source.load(prefix + "input_layernorm.weight", Shape.of(d), backend, dtype));
        Tensor postNorm = track(loaded, source.load(prefix + "post_attention_layernorm.weight", Shape.of(d), backend, dtype));
        Map<TargetModule, Tensor> w = new EnumMap<>(TargetModule.class);
        Map<TargetModule, Tensor> b = new EnumMap<>(TargetModule.class);
        for (TargetModule p : TargetModule.values()) {
          int out = p.outFeatures(config);
          w.put(p, track(loaded, source.load(prefix + p.parent() + "." + p.peftName() + ".weight", Shape.of(out, p.inFeatures(config)), backend, dtype)));
          if (p.hasBias(config)) {
            b.put(p, track(loaded, source.load(prefix + p.parent() + "." + p.peftName() + ".bias", Shape.of(out), backend, dtype)));
          }
        }
        layers.add(new DecoderLayer(i, config, new LayerWeights(inNorm, postNorm, w, b)));
      }
      Tensor norm = track(loaded, source.load("model.norm.weight", Shape.of(d), backend, dtype));
      Tensor head = config.tieWordEmbeddings() ? embed : track(loaded, source.load("lm_head.weight", Shape.of(v, d), backend, dtype));
      return new LlamaModel(config, backend, dtype, embed, norm, head, layers);
    } catch (RuntimeException e) {
      loaded.forEach(Tensor::close);
      throw e;
    }
  }

  public ModelConfig config() {
    return config;
  }

  public Backend backend() {
    return backend;
  }

  /** The dtype of the frozen weights and activations. */
  public DType dtype() {
    return dtype;
  }

  /**
   * The logits {@code [batch * seq, vocab]} for {@code batch}, with {@code adapter} applied when it
   * is not null (no dropout). The caller closes the result.
   */
  public Tensor logits(TokenBatch batch, LoraAdapter adapter) {
    try (Scope scope = backend.scope()) {
      DecoderLayer.StepContext s = context(batch, adapter, -1);
      Tensor x = backend.embedding(embedTokens, backend.fromInts(batch.inputIds(), Shape.of(batch.tokenCount())));
      for (DecoderLayer layer : layers) {
        // Inference keeps no activations: each layer's scope releases all but its output.
        try (Scope layerScope = backend.scope()) {
          x = layerScope.keep(layer.forward(x, s).output());
        }
      }
      NormOutput norm = backend.rmsNorm(x, finalNorm, (float) config.rmsNormEps());
      return scope.keep(backend.linear(norm.out(), lmHead, null));
    }
  }

  /**
   * An empty key/value cache for generating {@code batch} rows of up to {@code capacity} positions
   * (prompt and new tokens) with {@link #extend}. The caller closes it.
   */
  public KvCache newCache(int batch, int capacity) {
    if (batch < 1 || capacity < 1) {
      throw new IllegalArgumentException("a KV cache needs batch >= 1 and capacity >= 1: batch=" + batch + ", capacity=" + capacity);
    }
    Shape shape = Shape.of(batch, capacity, config.numKeyValueHeads(), config.headDim());
    return Scope.detached(() -> {
      List<Tensor> keys = new ArrayList<>();
      List<Tensor> values = new ArrayList<>();
      for (int i = 0; i < layers.size(); i++) {
        keys.add(backend.zeros(shape, dtype));
        values.add(backend.zeros(shape, dtype));
      }
      return new KvCache(keys, values, batch, capacity);
    });
  }

  /**
   * Runs the next {@code tokens} positions of every row through the model, attending to what
   * {@code cache} holds and appending their keys and values to it, and returns the logits {@code
   * [batch, vocab]} of each row's last new position: a prompt's prefill, then one call per
   * generated token. {@code adapter} may be null; no dropout.
   *
   * @param ids the new token ids, {@code [batch, tokens]} row-major
   * @param positions their rotary positions, same layout (a left-padded row counts from its first real token)
   * @param keyMask {@code [batch, capacity]}: nonzero where a cache position holds a real token, the new ones included
   */
  public Tensor extend(KvCache cache, int[] ids, int[] positions, int[] keyMask, LoraAdapter adapter) {
    checkAdapter(adapter);
    int b = cache.batch();
    int tokens = ids.length / b;
    if (ids.length == 0 || ids.length % b != 0 || positions.length != ids.length) {
      throw new IllegalArgumentException(
          "extend: ids (" + ids.length + ") and positions (" + positions.length + ") must both hold the same whole number of positions for each of " + b + " rows");
    }
    if (keyMask.length != b * cache.capacity()) {
      throw new IllegalArgumentException("extend: keyMask has " + keyMask.length + " entries, the cache " + b + " x " + cache.capacity());
    }
    if (cache.length() + tokens > cache.capacity()) {
      throw new IllegalArgumentException(
          "extend: " + tokens + " more positions do not fit the cache (" + cache.length() + " of " + cache.capacity() + " used)");
    }
    checkIds(ids, tokens);
    try (Scope scope = backend.scope()) {
      Tensor pos = backend.fromInts(positions, Shape.of(ids.length));
      Tensor mask = backend.fromInts(keyMask, Shape.of(b, cache.capacity()));
      DecoderLayer.StepContext s =
          new DecoderLayer.StepContext(backend, b, tokens, pos, null, invFreq, adapter, -1, new DecoderLayer.CacheStep(cache, mask, cache.length()));
      Tensor x = backend.embedding(embedTokens, backend.fromInts(ids, Shape.of(ids.length)));
      for (DecoderLayer layer : layers) {
        try (Scope layerScope = backend.scope()) {
          x = layerScope.keep(layer.forward(x, s).output());
        }
      }
      if (tokens > 1) {
        // Only each row's last position is needed: gather those rows (the embedding op is a row gather).
        int[] last = new int[b];
        for (int r = 0; r < b; r++) {
          last[r] = (r + 1) * tokens - 1;
        }
        x = backend.embedding(x, backend.fromInts(last, Shape.of(b)));
      }
      NormOutput norm = backend.rmsNorm(x, finalNorm, (float) config.rmsNormEps());
      Tensor logits = scope.keep(backend.linear(norm.out(), lmHead, null));
      cache.advance(tokens);
      return logits;
    }
  }

  /**
   * One training forward and backward on {@code batch}: adds {@code gradScale} times the gradient
   * of the summed token cross-entropy into the adapter's gradients, and returns that summed loss
   * as an F32 scalar tensor (not yet read back, so the step does not wait on the device). Pass
   * {@code gradScale = 1 / (tokens that carry loss)} for a token-mean loss; with gradient
   * accumulation, the count over all micro-batches. A negative {@code dropoutSeed} disables
   * dropout.
   */
  public Tensor forwardBackward(TokenBatch batch, LoraAdapter adapter, float gradScale, long dropoutSeed) {
    if (adapter == null) {
      throw new IllegalArgumentException("forwardBackward needs a LoRA adapter: the base weights are frozen");
    }
    try (Scope scope = backend.scope()) {
      DecoderLayer.StepContext s = context(batch, adapter, dropoutSeed);
      Tensor x = backend.embedding(embedTokens, backend.fromInts(batch.inputIds(), Shape.of(batch.tokenCount())));
      // Each layer keeps its activations until its backward, or, with gradient checkpointing, only
      // its input: the backward then runs the layer's forward again (the same dropout seeds draw the
      // same masks), trading one more forward for the memory of all but one layer's activations.
      List<Tensor> inputs = new ArrayList<>(layers.size());
      List<LayerActivations> saved = new ArrayList<>(layers.size());
      for (DecoderLayer layer : layers) {
        inputs.add(x);
        if (gradientCheckpointing) {
          try (Scope layerScope = backend.scope()) {
            x = layerScope.keep(layer.forward(x, s).output());
          }
        } else {
          LayerActivations a = layer.forward(x, s);
          saved.add(a);
          x = a.output();
        }
      }
      NormOutput norm = backend.rmsNorm(x, finalNorm, (float) config.rmsNormEps());
      Tensor logits = backend.linear(norm.out(), lmHead, null);
      Tensor targets = backend.fromInts(batch.shiftedTargets(), Shape.of(batch.tokenCount()));
      Tensor lossSum = backend.crossEntropySum(logits, targets, TokenBatch.IGNORE_INDEX);

      Tensor dLogits = backend.crossEntropyBackward(logits, targets, TokenBatch.IGNORE_INDEX, gradScale);
      logits.close();
      Tensor dNorm = backend.matmul(dLogits, false, lmHead, false);
      dLogits.close();
      Tensor dx = backend.rmsNormBackward(dNorm, x, finalNorm, norm.rstd());
      for (int i = layers.size() - 1; i >= 0; i--) {
        try (Scope layerScope = backend.scope()) {
          LayerActivations a = gradientCheckpointing ? layers.get(i).forward(inputs.get(i), s) : saved.get(i);
          Tensor dOut = dx;
          dx = layerScope.keep(layers.get(i).backward(dOut, a, s));
          dOut.close();
        }
        // This layer's activations are no longer needed; free them before the next layer's backward.
        if (!gradientCheckpointing) {
          close(saved.get(i));
        }
      }
      return scope.keep(lossSum);
    }
  }

  /**
   * With gradient checkpointing on, {@link #forwardBackward} keeps only each layer's input and
   * recomputes the layer's forward during the backward, as transformers' {@code
   * gradient_checkpointing=True} does. Gradients are the same; a step costs one more forward.
   */
  public void setGradientCheckpointing(boolean on) {
    this.gradientCheckpointing = on;
  }

  public boolean gradientCheckpointing() {
    return gradientCheckpointing;
  }

  private static void close(LayerActivations a) {
    // The layer's input is the previous layer's output, still needed by nothing after this point.
    a.inputNorm().close();
    a.q().close();
    a.k().close();
    a.v().close();
    a.attention().close();
    a.mid().close();
    a.postNorm().close();
    a.gate().close();
    a.up().close();
    a.act().close();
    a.loraHidden().values().forEach(Tensor::close);
  }

  /**
   * Folds {@code adapter} into the frozen weights, {@code W += scaling * B @ A}, as PEFT's {@code
   * merge_and_unload()} does: afterwards the model without an adapter computes what it computed
   * with one. The adapter is left as it was.
   */
  public void mergeAdapter(LoraAdapter adapter) {
    checkAdapter(adapter);
    try (Scope scope = backend.scope()) {
      for (LoraModule m : adapter.modules()) {
        Tensor w = layers.get(m.layer()).weights().weight(m.target());
        if (w.dtype() == DType.F32) {
          backend.gemm(m.b(), false, m.a(), false, m.scaling(), 1f, w);
        } else {
          // A low-precision weight gets the update computed in fp32 and rounded once.
          Tensor delta = backend.matmul(m.b(), false, m.a(), false);
          backend.axpy(m.scaling(), backend.cast(delta, w.dtype()), w);
        }
      }
    }
  }

  private void checkAdapter(LoraAdapter adapter) {
    if (adapter != null && !adapter.modelConfig().equals(config)) {
      throw new IllegalArgumentException("the LoRA adapter was made for another model configuration");
    }
  }

  /** Token ids outside the vocabulary are an error here, on the host, before any upload. */
  private void checkIds(TokenBatch batch) {
    checkIds(batch.inputIds(), batch.sequenceLength());
  }

  private void checkIds(int[] ids, int rowLength) {
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token id " + ids[i] + " at row " + i / rowLength + ", position " + i % rowLength + " is outside the vocabulary [0, " + config.vocabSize() + ")");
      }
    }
  }

  private DecoderLayer.StepContext context(TokenBatch batch, LoraAdapter adapter, long dropoutSeed) {
    checkAdapter(adapter);
    checkIds(batch);
    Tensor positions = backend.fromInts(batch.positions(), Shape.of(batch.tokenCount()));
    Tensor segments = backend.fromInts(batch.segments(), Shape.of(batch.batchSize(), batch.sequenceLength()));
    return new DecoderLayer.StepContext(backend, batch.batchSize(), batch.sequenceLength(), positions, segments, invFreq, adapter, dropoutSeed, null);
  }

  private static Tensor track(List<Tensor> loaded, Tensor t) {
    loaded.add(t);
    return t;
  }

  @Override
  public void close() {
    for (DecoderLayer layer : layers) {
      layer.weights().close();
    }
    embedTokens.close();
    finalNorm.close();
    if (lmHead != embedTokens) {
      lmHead.close();
    }
    invFreq.close();
  }
}
