package io.github.lora4j.tensor.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.github.lora4j.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host access to a tensor's memory without a heap copy of the whole tensor: the tensor is visited in
 * slices of at most {@link #CHUNK_BYTES}, each seen as a {@link MemorySegment} over PyTorch's own
 * memory (a direct buffer, which JNI limits to 2 GiB, so large tensors need the slices).
 */
final class HostCopy {
  private HostCopy() {}

  static final long CHUNK_BYTES = 64L << 20;

  /** What to do with one slice: {@code segment} holds elements {@code [start, start + count)}. */
  @FunctionalInterface
  interface ChunkVisitor {
    void visit(MemorySegment segment, long start, long count);
  }

  /**
   * Visits the memory of {@code array} (contiguous, {@code numel} elements of {@code elementBytes}
   * each) slice by slice. Writes through the segment change the tensor.
   */
  static void forEachChunk(NDArray array, long numel, int elementBytes, ChunkVisitor visitor) {
    forEachChunk(array, numel, elementBytes, CHUNK_BYTES, visitor);
  }

  static void forEachChunk(NDArray array, long numel, int elementBytes, long chunkBytes, ChunkVisitor visitor) {
    if (numel == 0) {
      return;
    }
    long chunk = Math.max(1, chunkBytes / elementBytes);
    if (numel <= chunk) {
      visitor.visit(MemorySegment.ofBuffer(array.toByteBuffer(true)), 0, numel);
      return;
    }
    try (NDArray flat = array.reshape(numel)) {
      for (long start = 0; start < numel; start += chunk) {
        long count = Math.min(chunk, numel - start);
        try (NDArray slice = flat.get(new NDIndex("{}:{}", start, start + count))) {
          visitor.visit(MemorySegment.ofBuffer(slice.toByteBuffer(true)), start, count);
        }
      }
    }
  }

  /** Writes {@code values} into F32 {@code array}, rounding each to {@code precision}. */
  static void writeFloats(NDArray array, float[] values, DType precision) {
    forEachChunk(array, values.length, 4, (seg, start, count) -> {
      if (precision == DType.F32) {
        MemorySegment.copy(values, (int) start, seg, ValueLayout.JAVA_FLOAT, 0, (int) count);
      } else {
        for (int i = 0; i < count; i++) {
          seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, FloatFormat.round(values[(int) start + i], precision));
        }
      }
    });
  }

  static void writeInts(NDArray array, int[] values) {
    forEachChunk(array, values.length, 4, (seg, start, count) ->
        MemorySegment.copy(values, (int) start, seg, ValueLayout.JAVA_INT, 0, (int) count));
  }

  /** Rounds every element of F32 {@code array} to {@code precision} in place. */
  static void roundInPlace(NDArray array, long numel, DType precision) {
    if (precision == DType.F32) {
      return;
    }
    forEachChunk(array, numel, 4, (seg, start, count) -> {
      for (long i = 0; i < count; i++) {
        seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, FloatFormat.round(seg.getAtIndex(ValueLayout.JAVA_FLOAT, i), precision));
      }
    });
  }

  static float[] readFloats(NDArray array, int numel) {
    float[] out = new float[numel];
    forEachChunk(array, numel, 4, (seg, start, count) ->
        MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, out, (int) start, (int) count));
    return out;
  }

  static int[] readInts(NDArray array, int numel) {
    int[] out = new int[numel];
    forEachChunk(array, numel, 4, (seg, start, count) ->
        MemorySegment.copy(seg, ValueLayout.JAVA_INT, 0, out, (int) start, (int) count));
    return out;
  }
}
