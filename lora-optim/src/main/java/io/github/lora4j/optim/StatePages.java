package io.github.lora4j.optim;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Scope;
import io.github.lora4j.tensor.Shape;
import io.github.lora4j.tensor.Tensor;
import java.util.List;

/**
 * Optimizer state that lives in page-locked host memory and is streamed through one fixed set of
 * device pages: for each chunk of a parameter, the chunk's state is copied into the pages, updated
 * there by the optimizer's fused op, and copied back. All copies are queued on the backend's stream
 * in order with the ops, so nothing waits on the host, and device memory for state is the pages
 * alone, whatever the parameters' size.
 *
 * <p>A state kind covers {@code elementsPerEntry} parameter elements per entry: 1 for a moment, the
 * block size for a quantisation scale. Chunks start at multiples of {@code alignment}, which each
 * kind's {@code elementsPerEntry} divides, so a chunk's entries are whole.
 */
final class StatePages {
  /** One kind of per-parameter state: moments are F32 with one entry per element; 8-bit moments U8 with a scale per block. */
  record Kind(String name, DType dtype, int elementsPerEntry) {}

  interface ChunkUpdate {
    /** Updates one chunk: flat slices of the parameter and its gradient, and device pages holding the chunk's state, one per kind. */
    void apply(Tensor param, Tensor grad, Tensor[] state);
  }

  private final Backend backend;
  private final List<Kind> kinds;
  private final long chunkElements;
  private final Tensor[] pages;

  /**
   * Pages for chunks of as many parameter elements as {@code poolBytes} holds the state of, but no
   * more than the largest parameter needs.
   *
   * @throws IllegalArgumentException when the pool does not hold one aligned chunk's state
   */
  StatePages(Backend backend, long poolBytes, List<Kind> kinds, int alignment, long largestParameter) {
    this.backend = backend;
    this.kinds = List.copyOf(kinds);
    long bytesPerAlignedChunk = 0;
    for (Kind k : kinds) {
      if (alignment % k.elementsPerEntry() != 0) {
        throw new IllegalArgumentException("alignment " + alignment + " must be a multiple of " + k.name() + "'s " + k.elementsPerEntry() + " elements per entry");
      }
      bytesPerAlignedChunk += (long) (alignment / k.elementsPerEntry()) * k.dtype().byteSize();
    }
    if (poolBytes < bytesPerAlignedChunk) {
      throw new IllegalArgumentException("pagePoolBytes must hold the state of at least " + alignment + " parameter element(s), " + bytesPerAlignedChunk + " bytes: "
          + poolBytes);
    }
    long needed = Math.max(1, (largestParameter + alignment - 1) / alignment);
    this.chunkElements = Math.min(poolBytes / bytesPerAlignedChunk, needed) * alignment;
    if (chunkElements / kinds.stream().mapToInt(Kind::elementsPerEntry).min().orElse(1) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pagePoolBytes gives pages of more than 2^31 elements: " + poolBytes);
    }
    this.pages = new Tensor[kinds.size()];
    for (int i = 0; i < pages.length; i++) {
      Kind k = kinds.get(i);
      int entries = (int) (chunkElements / k.elementsPerEntry());
      pages[i] = Scope.detached(() -> backend.zeros(Shape.of(entries), k.dtype()));
    }
  }

  /** Parameter elements per chunk. */
  long chunkElements() {
    return chunkElements;
  }

  /** Device bytes of the pages. */
  long deviceBytes() {
    long bytes = 0;
    for (Tensor p : pages) {
      bytes += p.numel() * p.dtype().byteSize();
    }
    return bytes;
  }

  /** Runs {@code update} over {@code p} chunk by chunk, with {@code host[k]} (state of kind k, in pinned host memory) paged in and out. */
  void forEachChunk(Parameter p, Tensor[] host, ChunkUpdate update) {
    long n = p.numel();
    try (Scope _ = backend.scope()) {
      for (long start = 0; start < n; start += chunkElements) {
        long count = Math.min(chunkElements, n - start);
        Tensor[] state = new Tensor[pages.length];
        Tensor[] stored = new Tensor[pages.length];
        for (int k = 0; k < pages.length; k++) {
          int per = kinds.get(k).elementsPerEntry();
          long entries = (count + per - 1) / per;
          stored[k] = backend.slice(host[k], start / per, entries);
          state[k] = backend.slice(pages[k], 0, entries);
          backend.copyInto(stored[k], state[k]);
        }
        update.apply(backend.slice(p.value(), start, count), backend.slice(p.grad(), start, count), state);
        for (int k = 0; k < pages.length; k++) {
          backend.copyInto(state[k], stored[k]);
        }
      }
    }
  }

  void close() {
    for (Tensor p : pages) {
      p.close();
    }
  }
}
