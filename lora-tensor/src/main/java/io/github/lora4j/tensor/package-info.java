/**
 * Tensors, dtypes, devices and the Backend SPI: the forward and backward ops that training needs.
 * The CPU backend runs them in fp32 on DJL's PyTorch engine; lora-cuda plugs in the GPU backend.
 */
package io.github.lora4j.tensor;
