/**
 * The GPU backend: CUDA driver API, cuBLAS and cuBLASLt bound through Java FFM, and lora4j's own kernels.
 * Found by ServiceLoader when a CUDA driver and GPU are present.
 */
package io.github.lora4j.cuda;
