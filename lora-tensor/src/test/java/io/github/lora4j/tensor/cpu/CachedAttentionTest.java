package io.github.lora4j.tensor.cpu;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.testing.CachedAttentionContract;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The cached-attention contract on the CPU in fp32. */
class CachedAttentionTest extends CachedAttentionContract {
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
    return DType.F32;
  }
}
