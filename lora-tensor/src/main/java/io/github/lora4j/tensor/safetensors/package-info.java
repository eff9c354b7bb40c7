/**
 * The safetensors format: memory-mapped reading of single files and sharded checkpoints, and an
 * atomic writer whose files are byte-identical to those of the reference implementation.
 */
package io.github.lora4j.tensor.safetensors;
