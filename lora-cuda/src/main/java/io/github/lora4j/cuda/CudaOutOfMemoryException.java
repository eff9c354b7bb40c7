package io.github.lora4j.cuda;

/** Device memory ran out; the message says how many bytes were asked for, what was free, and what to try. */
public final class CudaOutOfMemoryException extends CudaException {
  public CudaOutOfMemoryException(String message) {
    super(message, 2);
  }
}
