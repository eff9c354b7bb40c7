/**
 * Llama-family models with LoRA adapters, safetensors and PEFT interop, and the Trainer.
 * Start at Trainer.builder().
 */
package io.github.lora4j.core;
