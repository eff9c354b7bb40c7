package io.github.lora4j.examples;

import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.tensor.Device;
import java.nio.file.Path;

/**
 * The course's pricer fine-tune with the builder: QLoRA settings on a bf16 base (4-bit arrives with
 * the QLoRA issue). Run with a Hugging Face model directory and a prompt-completion JSONL file:
 *
 * <pre>
 * java -cp ... io.github.lora4j.examples.PricerFineTune /models/Meta-Llama-3.1-8B pricer-train.jsonl pricer-val.jsonl
 * </pre>
 */
public final class PricerFineTune {
  private PricerFineTune() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: PricerFineTune MODEL_DIR TRAIN.jsonl [VALIDATION.jsonl]");
      System.exit(2);
    }
    Trainer.Builder builder =
        Trainer.builder()
            .baseModel(Path.of(args[0]))
            .trainData(Path.of(args[1]))
            .device(Device.auto())
            .loraR(32)
            .loraAlpha(64)
            .loraDropout(0.1)
            .targetModules("q_proj", "k_proj", "v_proj", "o_proj")
            .epochs(1)
            .batchSize(16)
            .gradientAccumulationSteps(1)
            .learningRate(1e-4)
            .schedule("cosine")
            .warmupRatio(0.03)
            .optimizer("paged_adamw_32bit")
            .maxSequenceLength(182)
            .logEvery(50)
            .saveEvery(2000)
            .project("pricer");
    if (args.length > 2) {
      builder.evalData(Path.of(args[2])).evalEvery(500).loadBestAtEnd(true);
    }
    TrainingResult result = builder.build().fit();
    System.out.printf(
        "trained %d steps in %.0f s (%.0f tokens/s); final loss %.4f; adapter in %s%n",
        result.steps(), result.seconds(), result.tokensPerSecond(), result.finalLoss(), result.adapterDir());
  }
}
