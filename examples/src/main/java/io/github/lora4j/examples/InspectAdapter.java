package io.github.lora4j.examples;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.LoraModule;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import java.nio.file.Path;

/**
 * Loads a PEFT adapter (trained by lora4j or by PEFT) for a model and prints each LoRA pair's shapes
 * and the norm of its update {@code scaling * B @ A}: which layers the fine-tune changed most.
 *
 * <pre>
 * java -cp ... io.github.lora4j.examples.InspectAdapter MODEL_DIR ADAPTER_DIR
 * </pre>
 */
public final class InspectAdapter {
  private InspectAdapter() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: InspectAdapter MODEL_DIR ADAPTER_DIR");
      System.exit(2);
    }
    ModelConfig config = ModelConfig.load(Path.of(args[0]));
    try (Backend cpu = Backends.open(Device.cpu());
        LoraAdapter adapter = PeftAdapters.load(Path.of(args[1]), config, cpu)) {
      System.out.printf("%s: r=%d, alpha=%s, %,d trainable parameters%n", args[1], adapter.config().r(), adapter.config().loraAlpha(), adapter.parameterCount());
      for (LoraModule m : adapter.modules()) {
        try (var ba = cpu.matmul(m.b(), false, m.a(), false); var sq = cpu.sumOfSquares(ba)) {
          double norm = m.scaling() * Math.sqrt(cpu.toFloats(sq)[0]);
          System.out.printf("%-60s A %s B %s |scaling*B@A| = %.4g%n", m.peftPrefix(), m.a().shape(), m.b().shape(), norm);
        }
      }
    }
  }
}
