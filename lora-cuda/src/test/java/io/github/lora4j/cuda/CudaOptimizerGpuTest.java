package io.github.lora4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.testing.OptimizerContract;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The optimizer contract (adamwStep, sgdStep, global norm and clipping) on cuda:0: the assertions the CPU meets. */
@Tag("gpu")
class CudaOptimizerGpuTest extends OptimizerContract {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cuda(0));
  }

  @AfterContainer
  static void close() {
    if (backend == null) {
      return;
    }
    long left = backend.currentBytes();
    backend.close();
    assertEquals(0, left, "bytes still held after the contract, whose every tensor lives in a scope");
  }

  @Override
  protected Backend backend() {
    return backend;
  }
}
