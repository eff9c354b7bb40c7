/**
 * Optimizers and gradient clipping on Backend ops: SGD, AdamW, paged AdamW and 8-bit AdamW.
 * Start at Optimizers, which names its presets as transformers' optim argument does.
 */
package io.github.lora4j.optim;
