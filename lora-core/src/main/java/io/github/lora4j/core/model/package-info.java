/**
 * What a Llama-family model is: its Hugging Face {@code config.json} as a {@link
 * io.github.lora4j.core.model.ModelConfig}, and the rotary-embedding frequencies it implies.
 */
package io.github.lora4j.core.model;
