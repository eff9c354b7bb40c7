package io.github.lora4j.core.model;

import io.github.lora4j.tensor.Tensor;
import java.util.List;

/**
 * The keys and values that a batch being generated has computed so far: per layer, {@code [batch,
 * capacity, kvHeads, headDim]} each, in the model's dtype. Made by {@link LlamaModel#newCache} and
 * filled by {@link LlamaModel#extend}; positions at or past {@link #length()} hold nothing yet.
 */
public final class KvCache implements AutoCloseable {
  private final List<Tensor> keys;
  private final List<Tensor> values;
  private final int batch;
  private final int capacity;
  private int length;

  KvCache(List<Tensor> keys, List<Tensor> values, int batch, int capacity) {
    this.keys = List.copyOf(keys);
    this.values = List.copyOf(values);
    this.batch = batch;
    this.capacity = capacity;
  }

  public int batch() {
    return batch;
  }

  /** How many positions the cache holds at most. */
  public int capacity() {
    return capacity;
  }

  /** How many positions have been written. */
  public int length() {
    return length;
  }

  /** Bytes of device memory held by the cache. */
  public long bytes() {
    long total = 0;
    for (Tensor t : keys) {
      total += 2 * t.numel() * t.dtype().byteSize();
    }
    return total;
  }

  Tensor keys(int layer) {
    return keys.get(layer);
  }

  Tensor values(int layer) {
    return values.get(layer);
  }

  void advance(int positions) {
    length += positions;
  }

  @Override
  public void close() {
    keys.forEach(Tensor::close);
    values.forEach(Tensor::close);
  }
}
