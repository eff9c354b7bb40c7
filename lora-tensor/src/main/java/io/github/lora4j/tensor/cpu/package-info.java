/**
 * The CPU backend: every {@link io.github.lora4j.tensor.Backend} op in fp32 on DJL's PyTorch engine,
 * one class per layer with its forward and backward side by side.
 */
package io.github.lora4j.tensor.cpu;
