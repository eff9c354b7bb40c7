/**
 * Text generation with a key/value cache (greedy and sampled, batched, on any backend), and the
 * evaluations built on it, such as the pricer's price metrics.
 */
package io.github.lora4j.core.generate;
