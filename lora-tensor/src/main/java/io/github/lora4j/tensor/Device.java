package io.github.lora4j.tensor;

/**
 * Where tensors live and ops run. {@link #auto()} is resolved by {@link Backends#open(Device)}: the
 * first CUDA device when a GPU backend works, otherwise the CPU.
 */
public record Device(Kind kind, int index) {

  public enum Kind {
    CPU,
    CUDA,
    AUTO
  }

  public Device {
    if (kind == null) {
      throw new IllegalArgumentException("device kind must not be null");
    }
    if (index < 0) {
      throw new IllegalArgumentException("device index must be >= 0: " + index);
    }
    if (kind != Kind.CUDA && index != 0) {
      throw new IllegalArgumentException(kind + " device has no index other than 0: " + index);
    }
  }

  public static Device cpu() {
    return new Device(Kind.CPU, 0);
  }

  public static Device cuda(int index) {
    return new Device(Kind.CUDA, index);
  }

  public static Device auto() {
    return new Device(Kind.AUTO, 0);
  }

  /** Parses "cpu", "cuda", "cuda:1" or "auto", as transformers users write devices. */
  public static Device parse(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("cpu")) {
      return cpu();
    }
    if (t.equals("auto")) {
      return auto();
    }
    if (t.equals("cuda") || t.equals("gpu")) {
      return cuda(0);
    }
    if (t.startsWith("cuda:")) {
      try {
        return cuda(Integer.parseInt(t.substring(5)));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException("device must be cpu, cuda, cuda:N or auto: '" + text + "'");
  }

  @Override
  public String toString() {
    return kind == Kind.CUDA ? "cuda:" + index : kind.name().toLowerCase(java.util.Locale.ROOT);
  }
}
