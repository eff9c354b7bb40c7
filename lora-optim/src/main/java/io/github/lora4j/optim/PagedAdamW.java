package io.github.lora4j.optim;

import com.google.gson.JsonObject;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link AdamW} with its state ({@code exp_avg}, {@code exp_avg_sq}, {@code max_exp_avg_sq}) in
 * page-locked host memory, streamed through a fixed pool of device pages of {@code pagePoolBytes}:
 * the device holds at most the pool for optimizer state, however many parameters there are, and the
 * results are AdamW's to the bit (the same fused op runs on each page). This is transformers'
 * {@code paged_adamw_32bit}; unlike bitsandbytes, which pages through CUDA unified memory on demand,
 * lora4j streams every step explicitly and never allocates managed memory.
 *
 * <p>Cost: each step copies each parameter's state to the device and back (16 bytes an element, 24
 * with AMSGrad), queued on the backend's stream without host synchronisation.
 *
 * <pre>{@code
 * Optimizer paged = PagedAdamW.builder().pagePoolBytes(256L << 20).learningRate(2e-4).build(groups);
 * }</pre>
 *
 * Saved state is AdamW's: either can resume from the other.
 */
public final class PagedAdamW extends BaseOptimizer {
  /** The default pool: 64 MiB of device pages. */
  public static final long DEFAULT_PAGE_POOL_BYTES = 64L << 20;

  private final AdamWSettings settings;
  private final StatePages pages;
  private final Map<Parameter, Tensor[]> host = new IdentityHashMap<>();

  private PagedAdamW(Builder b, List<ParameterGroup> groups) {
    super(b, groups);
    this.settings = b.settings();
    List<StatePages.Kind> kinds = new ArrayList<>(List.of(new StatePages.Kind("exp_avg", DType.F32, 1), new StatePages.Kind("exp_avg_sq", DType.F32, 1)));
    if (settings.amsgrad()) {
      kinds.add(new StatePages.Kind("max_exp_avg_sq", DType.F32, 1));
    }
    long largest = 0;
    for (ParameterGroup g : groups) {
      for (Parameter p : g.parameters()) {
        Tensor[] s = new Tensor[kinds.size()];
        for (int k = 0; k < s.length; k++) {
          s[k] = newHostState(p, kinds.get(k).name(), p.value().shape(), DType.F32);
        }
        host.put(p, s);
        largest = Math.max(largest, p.numel());
      }
    }
    this.pages = ownPages(new StatePages(backend, b.pagePoolBytes, kinds, 1, largest));
  }

  /** A builder with torch.optim.AdamW's defaults and a {@link #DEFAULT_PAGE_POOL_BYTES} pool. */
  public static Builder builder() {
    return new Builder();
  }

  /** Parameter elements whose state one page holds. */
  public long pageElements() {
    return pages.chunkElements();
  }

  @Override
  void update(Parameter p, double learningRate, double weightDecay, long step, float gradScale) {
    double bc1 = settings.biasCorrection1(step);
    double bc2 = settings.biasCorrection2(step);
    pages.forEachChunk(p, host.get(p), (value, grad, s) -> backend.adamwStep(value, grad, s[0], s[1], settings.amsgrad() ? s[2] : null, learningRate,
        settings.beta1(), settings.beta2(), settings.eps(), weightDecay, bc1, bc2, gradScale));
  }

  @Override
  String kind() {
    return "adamw";
  }

  @Override
  void describe(JsonObject hyperparameters) {
    settings.describe(hyperparameters);
    hyperparameters.addProperty("paged", true);
    hyperparameters.addProperty("page_elements", pages.chunkElements());
  }

  /** Settings of {@link PagedAdamW}; see {@link AdamWBuilder} and {@link OptimizerBuilder}. */
  public static final class Builder extends AdamWBuilder<Builder, PagedAdamW> {
    private long pagePoolBytes = DEFAULT_PAGE_POOL_BYTES;

    Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /** Device memory for state pages, > 0; it must hold at least one element's state (8 bytes, 12 with AMSGrad), which build checks. */
    public Builder pagePoolBytes(long pagePoolBytes) {
      this.pagePoolBytes = Arguments.positive("pagePoolBytes", pagePoolBytes);
      return this;
    }

    @Override
    public PagedAdamW build(List<ParameterGroup> groups) {
      return new PagedAdamW(this, groups);
    }
  }
}
