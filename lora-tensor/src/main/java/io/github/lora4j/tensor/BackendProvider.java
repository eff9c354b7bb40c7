package io.github.lora4j.tensor;

import java.util.Optional;

/**
 * The service interface a backend module registers in {@code META-INF/services} so that {@link
 * Backends} finds it with {@link java.util.ServiceLoader}.
 */
public interface BackendProvider {

  /** The kind of device this provider serves. */
  Device.Kind kind();

  /** Empty when this provider can open devices here; otherwise why not (no driver, no GPU, ...). */
  Optional<String> unavailableReason();

  /** Opens a backend on {@code device} (of this provider's kind). */
  Backend open(Device device);
}
