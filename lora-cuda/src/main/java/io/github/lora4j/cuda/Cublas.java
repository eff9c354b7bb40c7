package io.github.lora4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Bindings to cuBLAS ({@code libcublas.so.13}, falling back to {@code .12}) through FFM: handle
 * management and the two GEMM entry points lora4j uses, {@code cublasGemmEx} and {@code
 * cublasGemmStridedBatchedEx}, with fp32 accumulation.
 */
final class Cublas {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB;
  private static final String LOADED;

  static {
    SymbolLookup lib = null;
    String loaded = null;
    for (String name : new String[] {"libcublas.so.13", "libcublas.so.12"}) {
      try {
        lib = SymbolLookup.libraryLookup(name, Arena.global());
        loaded = name;
        break;
      } catch (IllegalArgumentException e) {
        // try the next version
      }
    }
    LIB = lib;
    LOADED = loaded;
  }

  static final int CUBLAS_OP_N = 0;
  static final int CUBLAS_OP_T = 1;
  static final int CUDA_R_32F = 0;
  static final int CUDA_R_16F = 2;
  static final int CUDA_R_16BF = 14;
  static final int CUBLAS_COMPUTE_32F = 68;
  static final int CUBLAS_GEMM_DEFAULT = -1;
  static final int CUBLAS_DEFAULT_MATH = 0;

  static Optional<String> loadError() {
    return LIB == null
        ? Optional.of("cuBLAS was not found (libcublas.so.13 or libcublas.so.12); install the CUDA toolkit's cuBLAS (e.g. the libcublas-13-0 package) or add it to LD_LIBRARY_PATH")
        : Optional.empty();
  }

  static String libraryName() {
    return LOADED;
  }

  private static MethodHandle bind(String name, FunctionDescriptor d) {
    return LIB == null ? null : LIB.find(name).map(s -> LINKER.downcallHandle(s, d)).orElse(null);
  }

  private static final MethodHandle cublasCreate = bind("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle cublasDestroy = bind("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
  private static final MethodHandle cublasSetStream = bind("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cublasSetMathMode = bind("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
  private static final MethodHandle cublasSetWorkspace = bind("cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cublasGetStatusName = bind("cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  private static final MethodHandle cublasGemmEx =
      bind(
          "cublasGemmEx",
          FunctionDescriptor.of(
              JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
              JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle cublasGemmStridedBatchedEx =
      bind(
          "cublasGemmStridedBatchedEx",
          FunctionDescriptor.of(
              JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
              JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));

  private Cublas() {}

  static void check(int status, String call) {
    if (status != 0) {
      String name = "CUBLAS_STATUS " + status;
      try {
        if (cublasGetStatusName != null) {
          name = ((MemorySegment) cublasGetStatusName.invokeExact(status)).reinterpret(256).getString(0);
        }
      } catch (Throwable ignored) {
        // keep the numeric name
      }
      throw new CudaException(call + " failed: " + name, status);
    }
  }

  static long create(long stream) {
    if (LIB == null) {
      throw new CudaException(loadError().orElseThrow(), -1);
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      check((int) cublasCreate.invokeExact(out), "cublasCreate");
      long handle = out.get(JAVA_LONG, 0);
      check((int) cublasSetStream.invokeExact(handle, stream), "cublasSetStream");
      // Pedantic fp32: no TF32 unless asked, so fp32 mode matches the CPU.
      check((int) cublasSetMathMode.invokeExact(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
      return handle;
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException("cublasCreate failed: " + t, -1);
    }
  }

  static void setWorkspace(long handle, long ptr, long bytes) {
    try {
      check((int) cublasSetWorkspace.invokeExact(handle, ptr, bytes), "cublasSetWorkspace");
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException("cublasSetWorkspace failed: " + t, -1);
    }
  }

  static void destroy(long handle) {
    try {
      check((int) cublasDestroy.invokeExact(handle), "cublasDestroy");
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException("cublasDestroy failed: " + t, -1);
    }
  }

  /** Column-major {@code C = alpha op(A) op(B) + beta C}; alpha and beta point to host floats. */
  static void gemmEx(
      long handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a, int aType, int lda, long b, int bType, int ldb,
      MemorySegment beta, long c, int cType, int ldc) {
    try {
      check(
          (int) cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, alpha, a, aType, lda, b, bType, ldb, beta, c, cType, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx(m=" + m + ", n=" + n + ", k=" + k + ")");
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException("cublasGemmEx failed: " + t, -1);
    }
  }

  /** The strided-batched form of {@link #gemmEx}. */
  static void gemmStridedBatchedEx(
      long handle, int transA, int transB, int m, int n, int k, MemorySegment alpha, long a, int aType, int lda, long strideA, long b, int bType,
      int ldb, long strideB, MemorySegment beta, long c, int cType, int ldc, long strideC, int batch) {
    try {
      check(
          (int)
              cublasGemmStridedBatchedEx.invokeExact(
                  handle, transA, transB, m, n, k, alpha, a, aType, lda, strideA, b, bType, ldb, strideB, beta, c, cType, ldc, strideC, batch,
                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmStridedBatchedEx(m=" + m + ", n=" + n + ", k=" + k + ", batch=" + batch + ")");
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException("cublasGemmStridedBatchedEx failed: " + t, -1);
    }
  }
}
