package io.github.lora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;

/**
 * Without a usable GPU (no libcuda.so.1 on a build machine) the GPU backend says why instead of
 * failing to load, {@code Backends.open(cuda)} fails with that reason and {@code auto} falls back to
 * the CPU. The last two need a machine without a usable GPU and are skipped elsewhere.
 */
class CudaBackendProviderTest {

  @SuppressWarnings("restricted") // only looks the library up, as CudaDriver does, independently of it
  private static boolean driverLibraryLoads() {
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup.libraryLookup("libcuda.so.1", arena);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Example
  void backendsFindsTheProvider() {
    assertTrue(Backends.providers().stream().anyMatch(p -> p instanceof CudaBackendProvider), "lora-cuda registers its provider in META-INF/services");
  }

  @Example
  void saysWhyItIsUnavailableInsteadOfThrowing() {
    Optional<String> reason = new CudaBackendProvider().unavailableReason();
    reason.ifPresent(r -> assertFalse(r.isBlank(), "a reason that says something"));
    if (!driverLibraryLoads()) {
      assertTrue(reason.isPresent(), "no libcuda.so.1 here, so the GPU backend is unavailable");
      assertTrue(reason.get().contains("libcuda.so.1"), reason.get());
    }
  }

  @Example
  void openingCudaWithoutAUsableGpuSaysWhy() {
    Optional<String> reason = new CudaBackendProvider().unavailableReason();
    Assume.that(reason.isPresent());
    var e = assertThrows(IllegalStateException.class, () -> Backends.open(Device.cuda(0)));
    assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains(reason.get()), e.getMessage());
  }

  @Example
  void autoFallsBackToTheCpuWithoutAUsableGpu() {
    Assume.that(new CudaBackendProvider().unavailableReason().isPresent());
    try (Backend backend = Backends.open(Device.auto())) {
      assertEquals(Device.cpu(), backend.device());
    }
  }
}
