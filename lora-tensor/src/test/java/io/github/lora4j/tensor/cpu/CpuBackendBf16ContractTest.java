package io.github.lora4j.tensor.cpu;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.testing.BackendContract;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The whole contract with BF16 uploads on the CPU, which holds them as rounded fp32 values and
 * computes in fp32: every op must then match the reference on the rounded inputs within the fp32
 * tolerances, which checks that the contract rounds its inputs exactly as uploads do.
 */
class CpuBackendBf16ContractTest extends BackendContract {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Override
  protected Backend backend() {
    return backend;
  }

  @Override
  protected DType activationType() {
    return DType.BF16;
  }
}
