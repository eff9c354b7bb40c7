/**
 * What the training loop leans on: metrics and where they go (metrics.jsonl, TensorBoard, the
 * console, report.html), run names, atomic checkpoints with rotation and resume, callbacks, and
 * background uploads to the Hugging Face Hub.
 */
package io.github.lora4j.core.train;
