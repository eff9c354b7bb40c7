/**
 * Backend-independent test support: double-precision references of the ops, finite differences,
 * tolerances, and the op contracts ({@link io.github.lora4j.tensor.testing.BackendContract}) that
 * every backend's tests run.
 */
package io.github.lora4j.tensor.testing;
