package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import io.github.lora4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The presets by transformers' optim names, with transformers' defaults. */
class OptimizersTest {
  private static Backend backend;

  @BeforeContainer
  static void open() {
    backend = Backends.open(Device.cpu());
  }

  @AfterContainer
  static void close() {
    backend.close();
  }

  @Example
  void everyNameBuildsItsOptimizerWithTransformersDefaults() throws IOException {
    var expected = java.util.Map.of("adamw_torch", AdamW.class, "paged_adamw_32bit", PagedAdamW.class, "paged_adamw_8bit", PagedAdamW.class,
        "adamw_8bit", AdamW8bit.class, "sgd", SGD.class);
    assertEquals(expected.keySet(), java.util.Set.copyOf(Optimizers.names()));
    try (var value = backend.zeros(Shape.of(300), DType.F32); var grad = backend.zeros(Shape.of(300), DType.F32)) {
      Parameter p = new Parameter("p", value, grad);
      for (String name : Optimizers.names()) {
        try (Optimizer o = Optimizers.byName(name.toUpperCase(java.util.Locale.ROOT)).build(p)) {
          assertInstanceOf(expected.get(name), o, name);
          assertEquals(5e-5, o.learningRate(0), name + ": transformers' learning_rate");
          Path dir = Files.createTempDirectory("lora4j-" + name);
          o.saveState(dir);
          String json = Files.readString(dir.resolve("optimizer.json"));
          assertTrue(json.contains("\"weight_decay\": 0.0") && json.contains("\"max_grad_norm\": 1.0"), name + ": " + json);
          if (!name.equals("sgd")) {
            assertTrue(json.contains("\"beta1\": 0.9") && json.contains("\"beta2\": 0.999") && json.contains("\"eps\": 1.0E-8"), name + ": " + json);
          }
          if (name.contains("8bit")) {
            assertTrue(json.contains("\"optimizer\": \"adamw_8bit\""), name + ": " + json);
          }
        }
      }
    }
  }

  @Example
  void anUnknownNameListsTheKnownOnes() {
    var e = assertThrows(IllegalArgumentException.class, () -> Optimizers.byName("adafactor"));
    assertEquals("optim must be one of adamw_torch, paged_adamw_32bit, paged_adamw_8bit, adamw_8bit, sgd: 'adafactor'", e.getMessage());
  }
}
