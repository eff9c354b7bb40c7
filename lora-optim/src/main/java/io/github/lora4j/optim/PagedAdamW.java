package io.github.lora4j.optim;

import com.google.gson.JsonObject;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.DynamicQuantization;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link AdamW} (or, with {@code optimBits(8)}, {@link AdamW8bit}) with its state in page-locked
 * host memory, streamed through a fixed pool of device pages of {@code pagePoolBytes}: the device
 * holds at most the pool for optimizer state, however many parameters there are, and the results are
 * AdamW's (AdamW8bit's) to the bit, since the same fused op runs on each page. This is
 * transformers' {@code paged_adamw_32bit} ({@code paged_adamw_8bit}); unlike bitsandbytes, which
 * pages through CUDA unified memory on demand, lora4j streams every step explicitly and never
 * allocates managed memory.
 *
 * <p>Cost: each step copies each parameter's state to the device and back (16 bytes an element, 24
 * with AMSGrad, about 4 with 8 bits), queued on the backend's stream without host synchronisation.
 *
 * <pre>{@code
 * Optimizer paged = PagedAdamW.builder().pagePoolBytes(256L << 20).learningRate(2e-4).build(groups);
 * }</pre>
 *
 * Saved state is AdamW's (AdamW8bit's): either can resume from the other.
 */
public final class PagedAdamW extends BaseOptimizer {
  /** The default pool: 64 MiB of device pages. */
  public static final long DEFAULT_PAGE_POOL_BYTES = 64L << 20;

  private final AdamWSettings settings;
  private final int optimBits;
  private final StatePages pages;
  private final Map<Parameter, Tensor[]> host = new IdentityHashMap<>();

  private PagedAdamW(Builder b, List<ParameterGroup> groups) {
    super(b, groups);
    this.settings = b.settings();
    this.optimBits = b.optimBits;
    List<StatePages.Kind> kinds = new ArrayList<>();
    int alignment = 1;
    if (optimBits == 8) {
      AdamW8bit.checkSettings(settings);
      int block = DynamicQuantization.BLOCK_SIZE;
      kinds.add(new StatePages.Kind("exp_avg", DType.U8, 1));
      kinds.add(new StatePages.Kind("exp_avg_absmax", DType.F32, block));
      kinds.add(new StatePages.Kind("exp_avg_sq", DType.U8, 1));
      kinds.add(new StatePages.Kind("exp_avg_sq_absmax", DType.F32, block));
      // Pages start on quantisation blocks, so a page's blocks are the parameter's.
      alignment = block;
    } else {
      kinds.add(new StatePages.Kind("exp_avg", DType.F32, 1));
      kinds.add(new StatePages.Kind("exp_avg_sq", DType.F32, 1));
      if (settings.amsgrad()) {
        kinds.add(new StatePages.Kind("max_exp_avg_sq", DType.F32, 1));
      }
    }
    long largest = 0;
    for (ParameterGroup g : groups) {
      for (Parameter p : g.parameters()) {
        Tensor[] s = new Tensor[kinds.size()];
        for (int k = 0; k < s.length; k++) {
          StatePages.Kind kind = kinds.get(k);
          Shape shape = kind.elementsPerEntry() == 1 ? p.value().shape() : Shape.of(Math.toIntExact((p.numel() + kind.elementsPerEntry() - 1) / kind.elementsPerEntry()));
          s[k] = newHostState(p, kind.name(), shape, kind.dtype());
        }
        host.put(p, s);
        largest = Math.max(largest, p.numel());
      }
    }
    this.pages = ownPages(new StatePages(backend, b.pagePoolBytes, kinds, alignment, largest));
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
    if (optimBits == 8) {
      pages.forEachChunk(p, host.get(p), (value, grad, s) -> AdamW8bit.update8bit(this, settings, value, grad, s, learningRate, weightDecay, step, gradScale));
      return;
    }
    double bc1 = settings.biasCorrection1(step);
    double bc2 = settings.biasCorrection2(step);
    pages.forEachChunk(p, host.get(p), (value, grad, s) -> backend.adamwStep(value, grad, s[0], s[1], settings.amsgrad() ? s[2] : null, learningRate,
        settings.beta1(), settings.beta2(), settings.eps(), weightDecay, bc1, bc2, gradScale));
  }

  @Override
  String kind() {
    // The state is AdamW's or AdamW8bit's, tensor for tensor: either can resume from the other.
    return optimBits == 8 ? "adamw_8bit" : "adamw";
  }

  @Override
  void describe(JsonObject hyperparameters) {
    settings.describe(hyperparameters);
    if (optimBits == 8) {
      hyperparameters.addProperty("block_size", DynamicQuantization.BLOCK_SIZE);
    }
    hyperparameters.addProperty("paged", true);
    hyperparameters.addProperty("page_elements", pages.chunkElements());
  }

  /** Settings of {@link PagedAdamW}; see {@link AdamWBuilder} and {@link OptimizerBuilder}. */
  public static final class Builder extends AdamWBuilder<Builder, PagedAdamW> {
    private long pagePoolBytes = DEFAULT_PAGE_POOL_BYTES;
    private int optimBits = 32;

    Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * Device memory for state pages, > 0; it must hold the state of one element (8 bytes, 12 with
     * AMSGrad) or, with 8 bits, of one block of 256 (520 bytes), which build checks.
     */
    public Builder pagePoolBytes(long pagePoolBytes) {
      this.pagePoolBytes = Arguments.positive("pagePoolBytes", pagePoolBytes);
      return this;
    }

    /** 32 (fp32 state, AdamW's) or 8 (8-bit block-wise state, AdamW8bit's), as bitsandbytes' {@code optim_bits}. */
    public Builder optimBits(int optimBits) {
      if (optimBits != 32 && optimBits != 8) {
        throw new IllegalArgumentException("optimBits must be 32 or 8: " + optimBits);
      }
      this.optimBits = optimBits;
      return this;
    }

    @Override
    public PagedAdamW build(List<ParameterGroup> groups) {
      return new PagedAdamW(this, groups);
    }
  }
}
