package io.github.lora4j.optim;

import io.github.lora4j.tensor.Device;
import org.junit.jupiter.api.Tag;

/**
 * The golden trajectories on cuda:0 (AdamW resident and paged, SGD), against the same torch values
 * and tolerance as on the CPU. The fused kernels make torch's roundings, so only the global norm's
 * summation order (clipped cases) separates them from the CPU's results.
 */
@Tag("gpu")
class GoldenOptimizerGpuTest extends GoldenOptimizerTest {
  @Override
  Device device() {
    return Device.cuda(0);
  }
}
