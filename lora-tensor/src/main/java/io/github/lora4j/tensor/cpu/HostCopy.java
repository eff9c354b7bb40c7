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

  /** What to do with one slice of several arrays: {@code segments[k]} holds elements {@code [start, start + count)} of array k. */
  @FunctionalInterface
  interface LockstepVisitor {
    void visit(MemorySegment[] segments, long start, long count);
  }

  /**
   * Visits the same element range of several contiguous arrays of {@code numel} elements at once,
   * {@code elementBytes[k]} bytes per element of array k, slice by slice, for ops that read and
   * write several tensors element by element (the optimizer steps). Writes through the segments
   * change the tensors.
   */
  static void forEachChunk(NDArray[] arrays, int[] elementBytes, long numel, LockstepVisitor visitor) {
    int[] perEntry = new int[arrays.length];
    java.util.Arrays.fill(perEntry, 1);
    forEachChunk(arrays, elementBytes, perEntry, numel, visitor);
  }

  /**
   * As {@link #forEachChunk(NDArray[], int[], long, LockstepVisitor)} for arrays whose entries each
   * cover {@code elementsPerEntry[k]} of the {@code numel} elements (a quantisation block's scale
   * covers a block): array k has {@code ceil(numel / elementsPerEntry[k])} entries, and slices start
   * at multiples of every {@code elementsPerEntry}, so that {@code segments[k]} holds the entries of
   * elements {@code [start, start + count)}.
   */
  static void forEachChunk(NDArray[] arrays, int[] elementBytes, int[] elementsPerEntry, long numel, LockstepVisitor visitor) {
    if (numel == 0) {
      return;
    }
    int widest = 1;
    int align = 1;
    for (int k = 0; k < arrays.length; k++) {
      widest = Math.max(widest, elementBytes[k]);
      align = Math.max(align, elementsPerEntry[k]);
    }
    long chunk = Math.max(align, CHUNK_BYTES / widest / align * align);
    MemorySegment[] segments = new MemorySegment[arrays.length];
    if (numel <= chunk) {
      for (int k = 0; k < arrays.length; k++) {
        segments[k] = MemorySegment.ofBuffer(arrays[k].toByteBuffer(true));
      }
      visitor.visit(segments, 0, numel);
      return;
    }
    NDArray[] flat = new NDArray[arrays.length];
    try {
      for (int k = 0; k < arrays.length; k++) {
        flat[k] = arrays[k].reshape(arrays[k].getShape().size());
      }
      for (long start = 0; start < numel; start += chunk) {
        long count = Math.min(chunk, numel - start);
        NDArray[] slices = new NDArray[arrays.length];
        try {
          for (int k = 0; k < arrays.length; k++) {
            long per = elementsPerEntry[k];
            slices[k] = flat[k].get(new NDIndex("{}:{}", start / per, (start + count + per - 1) / per));
            segments[k] = MemorySegment.ofBuffer(slices[k].toByteBuffer(true));
          }
          visitor.visit(segments, start, count);
        } finally {
          closeAll(slices);
        }
      }
    } finally {
      closeAll(flat);
    }
  }

  private static void closeAll(NDArray[] arrays) {
    for (NDArray a : arrays) {
      if (a != null) {
        a.close();
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
