package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.TargetModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder's defaults are transformers'/TRL's/PEFT's, and build() names every problem at once. */
class TrainerBuilderTest {
  static final Path MODEL = Path.of("src/test/resources/golden/llama_gqa/model");

  @Test
  void defaultsFollowTransformersTrlAndPeft(@TempDir Path tmp) throws Exception {
    Path data = Files.writeString(tmp.resolve("train.jsonl"), "{\"text\": \"hello\"}\n");
    TrainerConfig c = Trainer.builder().baseModel(MODEL).trainData(data).build().config();
    assertEquals(5e-5, c.learningRate(), "TrainingArguments.learning_rate");
    assertEquals("linear", c.schedule(), "lr_scheduler_type");
    assertEquals(3.0, c.epochs(), "num_train_epochs");
    assertEquals(-1, c.maxSteps(), "max_steps");
    assertEquals(8, c.batchSize(), "per_device_train_batch_size");
    assertEquals(1, c.gradientAccumulationSteps());
    assertEquals(0.0, c.weightDecay());
    assertEquals(1.0, c.maxGradNorm(), "max_grad_norm");
    assertEquals("adamw_torch", c.optimizer());
    assertEquals(500, c.logEvery(), "logging_steps");
    assertEquals(500, c.saveEvery(), "save_steps");
    assertEquals(42, c.seed());
    assertEquals(1024, c.maxSequenceLength(), "SFTConfig.max_length");
    assertEquals(8, c.loraR(), "LoraConfig.r");
    assertEquals(8.0, c.loraAlpha(), "LoraConfig.lora_alpha");
    assertEquals(EnumSet.of(TargetModule.Q_PROJ, TargetModule.V_PROJ), c.targetModules());
  }

  @Test
  void theCourseWorkloadBuilds(@TempDir Path tmp) throws Exception {
    Path data = Files.writeString(tmp.resolve("pricer.jsonl"), "{\"prompt\": \"p\", \"completion\": \"c\"}\n");
    TrainerConfig c =
        Trainer.builder().baseModel(MODEL).trainData(data).loraR(32).loraAlpha(64).loraDropout(0.1).targetModules("q_proj", "k_proj", "v_proj", "o_proj")
            .epochs(1).batchSize(16).gradientAccumulationSteps(1).learningRate(1e-4).schedule("cosine").warmupRatio(0.03).optimizer("paged_adamw_32bit")
            .maxSequenceLength(182).logEvery(50).saveEvery(2000).project("pricer").build().config();
    assertEquals(32, c.loraR());
    assertEquals(4, c.targetModules().size());
    assertEquals("paged_adamw_32bit", c.optimizer());
  }

  @Test
  void everyProblemIsReportedAtOnceNamingTheSetting(@TempDir Path tmp) {
    TrainerConfigException e =
        assertThrows(
            TrainerConfigException.class,
            () ->
                Trainer.builder().baseModel(tmp).trainData(tmp.resolve("missing.jsonl")).loraR(0).loraDropout(1.5).targetModules("qq_proj").batchSize(-1)
                    .learningRate(Double.NaN).schedule("cosin").warmupRatio(0.1).warmupSteps(10).optimizer("adam").evalEvery(100).project("a/b")
                    .quantization(TrainerConfig.Quantization.NF4).build());
    List<String> p = e.problems();
    for (String expected :
        List.of("baseModel has no config.json", "trainData does not exist", "loraR must be positive: 0", "loraDropout must be in [0, 1): 1.5",
            "targetModules: unknown target module 'qq_proj'", "batchSize must be positive: -1", "learningRate must be positive and finite: NaN", "schedule:",
            "warmupRatio and warmupSteps are both set", "optimizer must be one of", "evalEvery is 100 but no evalData", "project must be", "quantization NF4")) {
      assertTrue(p.stream().anyMatch(s -> s.startsWith(expected)), "missing problem '" + expected + "' in " + p);
    }
    assertEquals(13, p.size(), p.toString());
    assertTrue(e.getMessage().startsWith("13 problems"), e.getMessage());
  }
}
