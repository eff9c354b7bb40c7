package io.github.lora4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.lora4j.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * lora4j's CUDA kernels: the fatbin that the build compiles from {@code src/main/cuda} with nvcc,
 * loaded once per device with {@code cuModuleLoadData}, and a launcher that packs Java arguments
 * into the {@code void**} array {@code cuLaunchKernel} takes. Not thread-safe: one per backend.
 */
final class Kernels {
  static final String RESOURCE = "/io/github/lora4j/cuda/lora4j_kernels.fatbin";
  private static final int MAX_ARGS = 16;
  private static final int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;

  private final long module;
  private final Map<String, Long> functions = new HashMap<>();
  private final MemorySegment values;
  private final MemorySegment pointers;

  Kernels(Arena arena, String deviceDescription) {
    byte[] image = readFatbin();
    MemorySegment native_ = arena.allocate(image.length + 1L, 16);
    MemorySegment.copy(MemorySegment.ofArray(image), 0, native_, 0, image.length);
    long loaded;
    try {
      loaded = CudaDriver.moduleLoadData(native_);
    } catch (CudaException e) {
      if (e.status() == CUDA_ERROR_NO_BINARY_FOR_GPU) {
        throw new CudaException(
            "lora4j's kernels have no code for " + deviceDescription + "; they are built for sm_80, sm_86, sm_89 and sm_90 (Ampere or newer)", e.status());
      }
      throw e;
    }
    this.module = loaded;
    this.values = arena.allocate(8L * MAX_ARGS, 8);
    this.pointers = arena.allocate(ADDRESS.byteSize() * MAX_ARGS, 8);
    for (int i = 0; i < MAX_ARGS; i++) {
      pointers.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
    }
  }

  private static byte[] readFatbin() {
    try (InputStream in = Kernels.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new CudaException(
            "lora-cuda was built without its kernels (" + RESOURCE + " is missing from the jar); rebuild it with nvcc on the PATH or CUDACXX set, without -Dcuda.skip",
            -1);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new CudaException("reading " + RESOURCE + " failed: " + e.getMessage(), -1);
    }
  }

  /** The exported name of a kernel for a storage dtype: {@code rmsnorm_forward_bf16}. */
  static String name(String base, DType dtype) {
    return base + "_" + suffix(dtype);
  }

  static String suffix(DType dtype) {
    return switch (dtype) {
      case F32 -> "f32";
      case BF16 -> "bf16";
      case F16 -> "f16";
      default -> throw new IllegalArgumentException("no float kernels for dtype " + dtype);
    };
  }

  /**
   * Launches {@code name} on {@code stream}. Arguments: {@link CudaTensor} (its device pointer;
   * null for NULL), {@link Long} (a 64-bit value or pointer), {@link Integer}, {@link Float}.
   */
  void launch(String name, long stream, int grid, int block, Object... args) {
    if (args.length > MAX_ARGS) {
      throw new IllegalArgumentException(name + ": more than " + MAX_ARGS + " kernel arguments");
    }
    for (int i = 0; i < args.length; i++) {
      long offset = 8L * i;
      switch (args[i]) {
        case null -> values.set(JAVA_LONG, offset, 0L);
        case CudaTensor t -> values.set(JAVA_LONG, offset, t.pointer());
        case Long l -> values.set(JAVA_LONG, offset, l);
        case Integer n -> values.set(JAVA_INT, offset, n);
        case Float f -> values.set(JAVA_FLOAT, offset, f);
        default -> throw new IllegalArgumentException(name + ": unsupported kernel argument type " + args[i].getClass());
      }
    }
    if (grid <= 0) {
      return;
    }
    CudaDriver.launchKernel(function(name), grid, 1, 1, block, 1, 1, 0, stream, pointers, name);
  }

  private long function(String name) {
    Long f = functions.get(name);
    if (f == null) {
      f = CudaDriver.moduleGetFunction(module, name);
      functions.put(name, f);
    }
    return f;
  }
}
