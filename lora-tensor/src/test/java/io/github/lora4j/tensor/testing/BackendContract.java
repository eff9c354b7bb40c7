package io.github.lora4j.tensor.testing;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import net.jqwik.api.Group;

/**
 * Every op contract for one backend and activation type, as jqwik groups of one container: a
 * backend's test extends this once per activation type, opens the backend for the container, and
 * runs the whole contract.
 *
 * <pre>{@code
 * @Tag("gpu")
 * class CudaBackendBf16GpuTest extends BackendContract {
 *   private static Backend backend;
 *   @BeforeContainer static void open() { backend = Backends.open(Device.cuda(0)); }
 *   @AfterContainer static void close() { backend.close(); }
 *   @Override protected Backend backend() { return backend; }
 *   @Override protected DType activationType() { return DType.BF16; }
 * }
 * }</pre>
 *
 * (jqwik's {@code net.jqwik.api.Tag}: JUnit Jupiter's {@code @Tag} is not read by jqwik.) A backend
 * whose tests are split by op extends the op contracts ({@link AttentionContract}, ...) instead, as
 * the CPU backend's tests do. {@link OpContract} explains the tolerances.
 */
public abstract class BackendContract {

  /** The backend under test, open for the whole container. */
  protected abstract Backend backend();

  /** The float type activations, weights and gradients are uploaded in. */
  protected abstract DType activationType();

  @Group
  public class Elementwise extends ElementwiseContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Gemm extends GemmContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Embedding extends EmbeddingContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class RmsNorm extends RmsNormContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Rope extends RopeContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Attention extends AttentionContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class CachedAttention extends CachedAttentionContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Swiglu extends SwigluContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class Dropout extends DropoutContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }

  @Group
  public class CrossEntropy extends CrossEntropyContract {
    @Override
    protected Backend backend() {
      return BackendContract.this.backend();
    }

    @Override
    protected DType activationType() {
      return BackendContract.this.activationType();
    }
  }
}
