package io.github.lora4j.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Releases every tensor created on this thread while it is the innermost open scope, so that a
 * training step leaks nothing: {@code try (var step = backend.scope()) { ... }}. Tensors that must
 * outlive the scope are handed to the enclosing scope (or to the caller) with {@link #keep}.
 * Scopes are confined to the thread that opened them and nest.
 */
public final class Scope implements AutoCloseable {
  private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

  private final Scope parent;
  private final Thread owner = Thread.currentThread();
  private List<Tensor> owned = new ArrayList<>();

  private Scope(Scope parent) {
    this.parent = parent;
  }

  /** Opens a scope nested in the current one. */
  public static Scope open() {
    Scope s = new Scope(CURRENT.get());
    CURRENT.set(s);
    return s;
  }

  /** Called by backends for every tensor they create; a no-op when no scope is open. */
  public static <T extends Tensor> T track(T tensor) {
    Scope s = CURRENT.get();
    if (s != null) {
      s.owned.add(tensor);
    }
    return tensor;
  }

  /**
   * Runs {@code make} with no scope open, so that the tensors it creates belong to the caller (model
   * weights, adapter parameters, optimizer state) and not to a step that happens to be open.
   */
  public static <T> T detached(java.util.function.Supplier<T> make) {
    Scope saved = CURRENT.get();
    CURRENT.remove();
    try {
      return make.get();
    } finally {
      CURRENT.set(saved);
    }
  }

  /** Moves {@code tensor} out of this scope, into the enclosing one if there is one. */
  public <T extends Tensor> T keep(T tensor) {
    checkOpen();
    if (owned.remove(tensor) && parent != null) {
      parent.owned.add(tensor);
    }
    return tensor;
  }

  /** Number of live tensors this scope will release. */
  public int size() {
    return owned.size();
  }

  @Override
  public void close() {
    if (owned == null) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException("a Scope must be closed by the thread that opened it (" + owner.getName() + ")");
    }
    if (CURRENT.get() != this) {
      throw new IllegalStateException("scopes must be closed innermost first");
    }
    List<Tensor> toClose = owned;
    owned = null;
    CURRENT.set(parent);
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private void checkOpen() {
    if (owned == null) {
      throw new IllegalStateException("scope is closed");
    }
  }
}
