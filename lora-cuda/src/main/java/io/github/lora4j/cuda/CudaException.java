package io.github.lora4j.cuda;

/** A CUDA driver or cuBLAS call failed; the message names the call, the library's error name and what to try. */
public class CudaException extends RuntimeException {
  private final int status;

  public CudaException(String message, int status) {
    super(message);
    this.status = status;
  }

  /** The library's status code (CUresult or cublasStatus_t). */
  public int status() {
    return status;
  }
}
