/**
 * Datasets (JSONL, CSV, Parquet in TRL's shapes), Hugging Face tokenizers and chat templates, SFT
 * batches with completion-only loss and packing, and the pricer workload's data and metrics.
 *
 * <p>Entry points: {@link io.github.lora4j.data.DatasetReader} reads examples, {@link
 * io.github.lora4j.data.PretrainedTokenizer} tokenizes, {@link io.github.lora4j.data.SftDataset}
 * turns them into the {@link io.github.lora4j.data.TokenBatch}es the trainer consumes, and {@link
 * io.github.lora4j.data.PricerData}, {@link io.github.lora4j.data.SyntheticPricer} and {@link
 * io.github.lora4j.data.PriceMetrics} make and score the pricer workload. Everything here runs on
 * the CPU.
 */
package io.github.lora4j.data;
