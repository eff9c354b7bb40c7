/**
 * LoRA adapters: their configuration ({@link io.github.lora4j.core.lora.LoraConfig}, read from and
 * written to PEFT's {@code adapter_config.json}) and which modules they adapt, with what shapes and
 * under which names in {@code adapter_model.safetensors} ({@link io.github.lora4j.core.lora.LoraLayout}).
 */
package io.github.lora4j.core.lora;
