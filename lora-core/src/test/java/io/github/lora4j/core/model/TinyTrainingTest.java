package io.github.lora4j.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import org.junit.jupiter.api.Test;

/** 200 SGD steps of LoRA on the tiny Llama halve its loss on the CPU. */
class TinyTrainingTest {
  @Test
  void lossFallsByHalfIn200Steps() throws Exception {
    try (Backend cpu = Backends.open(Device.cpu())) {
      long before = cpu.currentBytes();
      float[] loss = TinyTraining.run(cpu, DType.F32, 200, 0.5f);
      assertTrue(loss[1] <= 0.5f * loss[0], "loss went from " + loss[0] + " to " + loss[1] + ", not below half");
      assertTrue(cpu.currentBytes() == before, "a training run leaks " + (cpu.currentBytes() - before) + " bytes");
    }
  }
}
