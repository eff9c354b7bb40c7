package io.github.lora4j.cuda;


import io.github.lora4j.tensor.Backend;
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
    backend = GpuContractBackend.open();
  }

  @AfterContainer
  static void close() {
    GpuContractBackend.closeExpectingNoLeak(backend);
  }

  @Override
  protected Backend backend() {
    return backend;
  }
}
