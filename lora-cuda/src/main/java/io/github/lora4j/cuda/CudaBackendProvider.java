package io.github.lora4j.cuda;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.BackendProvider;
import io.github.lora4j.tensor.Device;
import java.util.Optional;

/** Registers the GPU backend with {@link io.github.lora4j.tensor.Backends}. */
public final class CudaBackendProvider implements BackendProvider {

  @Override
  public Device.Kind kind() {
    return Device.Kind.CUDA;
  }

  @Override
  public Optional<String> unavailableReason() {
    Optional<String> driver = CudaDriver.loadError();
    if (driver.isPresent()) {
      return driver;
    }
    Optional<String> blas = Cublas.loadError();
    if (blas.isPresent()) {
      return blas;
    }
    try {
      CudaDriver.init();
      int count = CudaDriver.deviceCount();
      return count == 0 ? Optional.of("the NVIDIA driver reports no CUDA device") : Optional.empty();
    } catch (CudaException e) {
      return Optional.of(e.getMessage());
    }
  }

  @Override
  public Backend open(Device device) {
    return new CudaBackend(device.index());
  }
}
