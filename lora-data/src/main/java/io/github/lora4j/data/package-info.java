/**
 * Datasets, tokenizers, chat templates and SFT batches, plus the pricer workload's data.
 * Everything here runs on the CPU; the Trainer consumes its batches.
 */
package io.github.lora4j.data;
