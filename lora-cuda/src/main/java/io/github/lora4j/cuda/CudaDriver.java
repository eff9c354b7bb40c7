package io.github.lora4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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
 * Bindings to the CUDA driver API ({@code libcuda.so.1}) through FFM: only the calls lora4j makes,
 * under their versioned symbol names ({@code cuMemGetInfo_v2}, ...). Device pointers, contexts,
 * streams, modules and functions are passed as {@code long} handles.
 */
final class CudaDriver {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB;
  private static final String LOAD_ERROR;

  static {
    SymbolLookup lib = null;
    String error = null;
    try {
      lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
    } catch (IllegalArgumentException e) {
      error = "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver installed, or not on the loader path)";
    }
    LIB = lib;
    LOAD_ERROR = error;
  }

  static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
  static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
  static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
  static final int CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED = 115;
  static final int CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
  static final int CU_STREAM_NON_BLOCKING = 1;
  static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
  static final int CUDA_ERROR_NO_DEVICE = 100;

  /** Why the driver cannot be used, or empty when libcuda.so.1 loaded. */
  static Optional<String> loadError() {
    return Optional.ofNullable(LOAD_ERROR);
  }

  private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
    if (LIB == null) {
      return null;
    }
    return LIB.find(name).map(s -> LINKER.downcallHandle(s, descriptor)).orElse(null);
  }

  private static final FunctionDescriptor I_I = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
  private static final FunctionDescriptor I_A = FunctionDescriptor.of(JAVA_INT, ADDRESS);
  private static final FunctionDescriptor I_L = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);

  private static final MethodHandle cuInit = bind("cuInit", I_I);
  private static final MethodHandle cuDriverGetVersion = bind("cuDriverGetVersion", I_A);
  private static final MethodHandle cuDeviceGetCount = bind("cuDeviceGetCount", I_A);
  private static final MethodHandle cuDeviceGet = bind("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle cuDeviceGetName = bind("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle cuDeviceGetAttribute = bind("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle cuDevicePrimaryCtxRetain = bind("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle cuDevicePrimaryCtxRelease = bind("cuDevicePrimaryCtxRelease_v2", I_I);
  private static final MethodHandle cuCtxSetCurrent = bind("cuCtxSetCurrent", I_L);
  private static final MethodHandle cuStreamCreate = bind("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle cuStreamSynchronize = bind("cuStreamSynchronize", I_L);
  private static final MethodHandle cuStreamDestroy = bind("cuStreamDestroy_v2", I_L);
  private static final MethodHandle cuMemGetInfo = bind("cuMemGetInfo_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle cuDeviceGetDefaultMemPool = bind("cuDeviceGetDefaultMemPool", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle cuMemPoolSetAttribute = bind("cuMemPoolSetAttribute", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS));
  private static final MethodHandle cuMemAllocAsync = bind("cuMemAllocAsync", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuMemFreeAsync = bind("cuMemFreeAsync", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuMemAllocHost = bind("cuMemAllocHost_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle cuMemFreeHost = bind("cuMemFreeHost", I_A);
  private static final MethodHandle cuMemcpyHtoDAsync = bind("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuMemcpyDtoHAsync = bind("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuMemcpyDtoDAsync = bind("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuMemsetD8Async = bind("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuModuleLoadData = bind("cuModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle cuModuleGetFunction = bind("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
  private static final MethodHandle cuLaunchKernel =
      bind(
          "cuLaunchKernel",
          FunctionDescriptor.of(
              JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
  private static final MethodHandle cuGetErrorName = bind("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
  private static final MethodHandle cuGetErrorString = bind("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
  private static final MethodHandle cuEventCreate = bind("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle cuEventRecord = bind("cuEventRecord", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
  private static final MethodHandle cuEventSynchronize = bind("cuEventSynchronize", I_L);
  private static final MethodHandle cuEventDestroy = bind("cuEventDestroy_v2", I_L);

  private CudaDriver() {}

  /** Turns a CUresult into an exception naming the call and the driver's own error name. */
  static void check(int status, String call) {
    if (status != 0) {
      throw new CudaException(call + " failed: " + errorName(status) + " (" + errorString(status) + ")", status);
    }
  }

  static String errorName(int status) {
    return describe(cuGetErrorName, status);
  }

  static String errorString(int status) {
    return describe(cuGetErrorString, status);
  }

  private static String describe(MethodHandle handle, int status) {
    if (handle == null) {
      return "CUresult " + status;
    }
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      int rc = (int) handle.invokeExact(status, out);
      if (rc != 0) {
        return "CUresult " + status;
      }
      return out.get(ADDRESS, 0).reinterpret(1024).getString(0);
    } catch (Throwable t) {
      return "CUresult " + status;
    }
  }

  private static MethodHandle need(MethodHandle h, String name) {
    if (h == null) {
      throw new CudaException(
          LOAD_ERROR != null ? LOAD_ERROR : "the CUDA driver has no " + name + "; update the NVIDIA driver (CUDA 12 or newer is needed)", -1);
    }
    return h;
  }

  // Set-up calls (run once per backend) go through invokeWithArguments and one helper; the calls
  // of a training step (allocation, copies, launches) keep invokeExact.

  /** Calls {@code h(out, args...)} and returns what it wrote to {@code out} (an int or a long). */
  private static long callOut(MethodHandle h, String name, boolean longOut, Object... args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG);
      Object[] all = new Object[args.length + 1];
      all[0] = out;
      System.arraycopy(args, 0, all, 1, args.length);
      check((int) need(h, name).invokeWithArguments(all), name);
      return longOut ? out.get(JAVA_LONG, 0) : out.get(JAVA_INT, 0);
    } catch (CudaException e) {
      throw e;
    } catch (Throwable t) {
      throw new CudaException(name + " failed: " + t, -1);
    }
  }

  static void init() {
    call(() -> (int) need(cuInit, "cuInit").invokeExact(0), "cuInit");
  }

  static int driverVersion() {
    return (int) callOut(cuDriverGetVersion, "cuDriverGetVersion", false);
  }

  static int deviceCount() {
    return (int) callOut(cuDeviceGetCount, "cuDeviceGetCount", false);
  }

  static int device(int ordinal) {
    return (int) callOut(cuDeviceGet, "cuDeviceGet(" + ordinal + ")", false, ordinal);
  }

  static String deviceName(int device) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(256);
      call(() -> (int) need(cuDeviceGetName, "cuDeviceGetName").invokeExact(out, 256, device), "cuDeviceGetName");
      return out.getString(0);
    }
  }

  static int deviceAttribute(int device, int attribute) {
    return (int) callOut(cuDeviceGetAttribute, "cuDeviceGetAttribute(" + attribute + ")", false, attribute, device);
  }

  static long primaryContextRetain(int device) {
    return callOut(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", true, device);
  }

  static void primaryContextRelease(int device) {
    call(() -> (int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease");
  }

  static void setCurrentContext(long ctx) {
    call(() -> (int) need(cuCtxSetCurrent, "cuCtxSetCurrent").invokeExact(ctx), "cuCtxSetCurrent");
  }

  static long streamCreate() {
    return callOut(cuStreamCreate, "cuStreamCreate", true, CU_STREAM_NON_BLOCKING);
  }

  static void streamSynchronize(long stream) {
    call(() -> (int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
  }

  static void streamDestroy(long stream) {
    call(() -> (int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy");
  }

  /** {free, total} device bytes. */
  static long[] memoryInfo() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment free = a.allocate(JAVA_LONG);
      MemorySegment total = a.allocate(JAVA_LONG);
      call(() -> (int) need(cuMemGetInfo, "cuMemGetInfo").invokeExact(free, total), "cuMemGetInfo");
      return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
    }
  }

  static long defaultMemoryPool(int device) {
    return callOut(cuDeviceGetDefaultMemPool, "cuDeviceGetDefaultMemPool", true, device);
  }

  /** Keeps freed memory in the pool instead of returning it to the driver at each synchronisation. */
  static void setPoolReleaseThreshold(long pool, long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment value = a.allocate(JAVA_LONG);
      value.set(JAVA_LONG, 0, bytes);
      call(
          () -> (int) need(cuMemPoolSetAttribute, "cuMemPoolSetAttribute").invokeExact(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, value),
          "cuMemPoolSetAttribute");
    }
  }

  /** Allocates from the stream-ordered pool; returns the CUresult and writes the pointer to {@code out}. */
  static int memAllocAsync(MemorySegment out, long bytes, long stream) {
    try {
      return (int) cuMemAllocAsync.invokeExact(out, bytes, stream);
    } catch (Throwable t) {
      throw new CudaException("cuMemAllocAsync failed: " + t, -1);
    }
  }

  static void memFreeAsync(long ptr, long stream) {
    call(() -> (int) cuMemFreeAsync.invokeExact(ptr, stream), "cuMemFreeAsync");
  }

  /** Page-locked host memory, for staging copies and paged optimizer state. */
  static MemorySegment memAllocHost(long bytes) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(ADDRESS);
      call(() -> (int) need(cuMemAllocHost, "cuMemAllocHost").invokeExact(out, bytes), "cuMemAllocHost(" + bytes + " bytes)");
      return out.get(ADDRESS, 0).reinterpret(bytes);
    }
  }

  static void memFreeHost(MemorySegment host) {
    call(() -> (int) cuMemFreeHost.invokeExact(host), "cuMemFreeHost");
  }

  static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
    call(() -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync");
  }

  static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
    call(() -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync");
  }

  static void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
    call(() -> (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync");
  }

  static void memsetD8Async(long dst, byte value, long count, long stream) {
    call(() -> (int) cuMemsetD8Async.invokeExact(dst, value, count, stream), "cuMemsetD8Async");
  }

  static long moduleLoadData(MemorySegment image) {
    return callOut(cuModuleLoadData, "cuModuleLoadData", true, image);
  }

  static long moduleGetFunction(long module, String name) {
    try (Arena a = Arena.ofConfined()) {
      return callOut(cuModuleGetFunction, "cuModuleGetFunction(" + name + ")", true, module, a.allocateFrom(name));
    }
  }

  static void launchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes, long stream, MemorySegment params, String name) {
    call(
        () -> (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream, params, MemorySegment.NULL),
        "cuLaunchKernel(" + name + ")");
  }

  static long eventCreate() {
    return callOut(cuEventCreate, "cuEventCreate", true, 0);
  }

  static void eventRecord(long event, long stream) {
    call(() -> (int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
  }

  static void eventSynchronize(long event) {
    call(() -> (int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
  }

  static void eventDestroy(long event) {
    call(() -> (int) cuEventDestroy.invokeExact(event), "cuEventDestroy");
  }

  @FunctionalInterface
  private interface NativeCall {
    int invoke() throws Throwable;
  }

  private static void call(NativeCall c, String name) {
    int status;
    try {
      status = c.invoke();
    } catch (CudaException e) {
      throw e;
    } catch (NullPointerException e) {
      throw new CudaException(LOAD_ERROR != null ? LOAD_ERROR : name + " is missing from libcuda.so.1", -1);
    } catch (Throwable t) {
      throw new CudaException(name + " failed: " + t, -1);
    }
    check(status, name);
  }
}
