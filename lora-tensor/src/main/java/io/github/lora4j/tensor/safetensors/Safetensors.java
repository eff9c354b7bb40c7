package io.github.lora4j.tensor.safetensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Read access to named tensors stored in safetensors files: one file ({@link SafetensorsFile}) or
 * a model directory whose weights may be sharded ({@link SafetensorsCheckpoint}). Data stays in
 * memory-mapped files; the {@code read} methods copy one tensor at a time into the heap.
 *
 * <pre>{@code
 * try (Safetensors weights = Safetensors.open(Path.of("Llama-3.2-1B"))) {
 *   float[] embed = weights.readFloats("model.embed_tokens.weight"); // BF16 widened to F32
 * }
 * }</pre>
 */
public sealed interface Safetensors extends AutoCloseable permits SafetensorsFile, SafetensorsCheckpoint {

  /**
   * Opens a safetensors file, a {@code model.safetensors.index.json}, or a model directory (see
   * {@link SafetensorsCheckpoint#open}).
   *
   * @throws SafetensorsException naming the file and key when the data is not valid safetensors
   * @throws IOException when the file cannot be read
   */
  static Safetensors open(Path path) throws IOException {
    if (Files.isRegularFile(path) && !path.getFileName().toString().endsWith(".json")) {
      return SafetensorsFile.open(path);
    }
    return SafetensorsCheckpoint.open(path);
  }

  /** The tensor names, in the order their data is stored (for a checkpoint: shard by shard). */
  List<String> names();

  /** Whether a tensor of this name is stored. */
  boolean contains(String name);

  /**
   * The dtype and shape of a tensor.
   *
   * @throws IllegalArgumentException naming the file when no tensor has this name
   */
  TensorInfo info(String name);

  /**
   * A read-only view of a tensor's bytes (little-endian, row-major), valid until {@link #close()}.
   * It is not aligned: read it with the {@code _UNALIGNED} value layouts.
   */
  MemorySegment segment(String name);

  /** A new array holding the tensor's elements as F32; BF16 and F16 are widened exactly. */
  float[] readFloats(String name);

  /**
   * Copies the tensor's elements as F32 into {@code dst} from {@code offset} on; BF16 and F16 are
   * widened exactly.
   *
   * @throws IllegalArgumentException when the tensor is not F32, BF16 or F16, or does not fit
   */
  void readFloats(String name, float[] dst, int offset);

  /**
   * A new array holding the elements of an I32, I64 or U8 tensor as ints.
   *
   * @throws IllegalArgumentException for other dtypes, or an I64 value outside the int range
   */
  int[] readInts(String name);

  /** The free-form string metadata of the header ({@code "__metadata__"}); empty when there is none. */
  Map<String, String> metadata();

  /** Unmaps the files; segments handed out before become unusable. */
  @Override
  void close();
}
