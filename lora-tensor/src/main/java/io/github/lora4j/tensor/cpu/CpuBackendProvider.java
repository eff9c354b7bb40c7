package io.github.lora4j.tensor.cpu;

import ai.djl.engine.Engine;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.BackendProvider;
import io.github.lora4j.tensor.Device;
import java.util.Optional;

/**
 * Registers the CPU backend with {@link io.github.lora4j.tensor.Backends}. It is available wherever
 * DJL's PyTorch engine loads (its native library ships in the pytorch-native-cpu jar).
 */
public final class CpuBackendProvider implements BackendProvider {

  /** Loads the engine once per JVM and remembers why it failed, if it did. */
  private static final class EngineCheck {
    static final Optional<String> UNAVAILABLE = check();

    private static Optional<String> check() {
      try {
        Engine.getEngine("PyTorch");
        return Optional.empty();
      } catch (RuntimeException | LinkageError e) {
        return Optional.of("DJL's PyTorch engine failed to load: " + e);
      }
    }
  }

  public CpuBackendProvider() {}

  @Override
  public Device.Kind kind() {
    return Device.Kind.CPU;
  }

  @Override
  public Optional<String> unavailableReason() {
    return EngineCheck.UNAVAILABLE;
  }

  @Override
  public Backend open(Device device) {
    if (device.kind() != Device.Kind.CPU) {
      throw new IllegalArgumentException("the CPU backend cannot open " + device);
    }
    var reason = unavailableReason();
    if (reason.isPresent()) {
      throw new IllegalStateException("device cpu is unavailable: " + reason.get());
    }
    return new CpuBackend();
  }
}
