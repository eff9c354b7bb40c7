package io.github.lora4j.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a {@link Backend} for a {@link Device}. The CPU backend lives in this module; the GPU
 * backend (module lora-cuda) is found on the class path.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open(Device.auto())) { ... }
 * }</pre>
 */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  /**
   * Opens a backend. {@link Device#auto()} picks the first CUDA device when a GPU backend is
   * available and the CPU otherwise, and logs one line saying which and why.
   *
   * @throws IllegalStateException naming what is missing when the device cannot be used
   */
  public static Backend open(Device device) {
    List<BackendProvider> providers = providers();
    if (device.kind() == Device.Kind.AUTO) {
      for (BackendProvider p : providers) {
        if (p.kind() == Device.Kind.CUDA) {
          var reason = p.unavailableReason();
          if (reason.isEmpty()) {
            Backend b = p.open(Device.cuda(0));
            LOG.info("device auto: chose {} ({})", b.device(), b.describe());
            return b;
          }
          LOG.info("device auto: chose cpu because the GPU backend is unavailable: {}", reason.get());
          return provider(providers, Device.Kind.CPU).open(Device.cpu());
        }
      }
      LOG.info("device auto: chose cpu because no GPU backend (lora-cuda) is on the class path");
      return provider(providers, Device.Kind.CPU).open(Device.cpu());
    }
    BackendProvider p = provider(providers, device.kind());
    var reason = p.unavailableReason();
    if (reason.isPresent()) {
      throw new IllegalStateException("device " + device + " is unavailable: " + reason.get());
    }
    return p.open(device);
  }

  /** Every provider on the class path, in discovery order. */
  public static List<BackendProvider> providers() {
    List<BackendProvider> list = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
    return list;
  }

  private static BackendProvider provider(List<BackendProvider> providers, Device.Kind kind) {
    for (BackendProvider p : providers) {
      if (p.kind() == kind) {
        return p;
      }
    }
    String hint = kind == Device.Kind.CUDA ? " (add the lora-cuda module to the class path)" : "";
    throw new IllegalStateException("no backend for " + kind.name().toLowerCase(java.util.Locale.ROOT) + " devices found" + hint);
  }
}
