package io.github.lora4j.cuda;


import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.testing.BackendContract;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The whole op contract on cuda:0 with F32 activations: the fp32 tolerances the CPU meets.
 */
@Tag("gpu")
class CudaBackendF32GpuTest extends BackendContract {
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

  @Override
  protected DType activationType() {
    return DType.F32;
  }
}
