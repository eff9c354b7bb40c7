/**
 * Optimizers on Backend ops: SGD, AdamW, paged AdamW and 8-bit AdamW, with global-norm clipping,
 * exact gradient accumulation and fp16 loss scaling. Start at {@link io.github.lora4j.optim.Optimizers},
 * whose presets carry the names of transformers' {@code optim} argument.
 */
package io.github.lora4j.optim;
