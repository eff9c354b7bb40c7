package io.github.lora4j.core.model;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import io.github.lora4j.tensor.safetensors.SafetensorsCheckpoint;
import io.github.lora4j.tensor.safetensors.SafetensorsException;
import io.github.lora4j.tensor.safetensors.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Frozen weights from a Hugging Face checkpoint: memory-mapped safetensors, one file or sharded,
 * copied to the backend tensor by tensor without reading a shard into the heap.
 */
final class CheckpointWeights implements WeightSource, AutoCloseable {
  private final SafetensorsCheckpoint checkpoint;

  private CheckpointWeights(SafetensorsCheckpoint checkpoint) {
    this.checkpoint = checkpoint;
  }

  static CheckpointWeights open(Path dir) throws IOException {
    return new CheckpointWeights(SafetensorsCheckpoint.open(dir));
  }

  @Override
  public boolean contains(String key) {
    return checkpoint.contains(key);
  }

  @Override
  public Tensor load(String key, Shape expected, Backend backend, DType dtype) {
    if (!checkpoint.contains(key)) {
      throw new UncheckedIOException(new SafetensorsException(checkpoint.source(), key, "is missing; the model's config.json expects it"));
    }
    TensorInfo info = checkpoint.info(key);
    if (!Arrays.equals(info.intShape(), expected.dims())) {
      throw new UncheckedIOException(
          new SafetensorsException(
              checkpoint.shardOf(key).path(), key, "has shape " + Arrays.toString(info.shape()) + " but config.json implies " + expected));
    }
    if (!info.dtype().isFloatingPoint()) {
      throw new UncheckedIOException(new SafetensorsException(checkpoint.shardOf(key).path(), key, "is " + info.dtype() + ", not a float tensor"));
    }
    return backend.fromSegment(checkpoint.segment(key), info.dtype(), expected, dtype);
  }

  @Override
  public String describe() {
    return checkpoint.source().toString();
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
