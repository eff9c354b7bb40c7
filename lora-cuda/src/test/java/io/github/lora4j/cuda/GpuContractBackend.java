package io.github.lora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;

/** The cuda:0 backend a GPU contract class opens for its run, and the leak check when it closes. */
final class GpuContractBackend {
  private GpuContractBackend() {}

  static Backend open() {
    return Backends.open(Device.cuda(0));
  }

  /** Closes {@code backend}, failing if the contract left device memory behind. Null-safe. */
  static void closeExpectingNoLeak(Backend backend) {
    if (backend == null) {
      return;
    }
    long left = backend.currentBytes();
    backend.close();
    assertEquals(0, left, "bytes still held after the contract, whose every tensor lives in a scope");
  }
}
