package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fit() on the GPU in bf16 with paged AdamW, the seed workload's optimizer. */
@Tag("gpu")
class TrainerFitGpuTest {
  @Test
  void trainsOnTheGpuInBf16WithPagedAdamW(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    TrainingResult result =
        Trainer.builder().baseModel(model).device(Device.cuda(0)).trainData(TrainerFitTest.data(tmp, "train.jsonl", 64, 1))
            .evalData(TrainerFitTest.data(tmp, "eval.jsonl", 16, 2)).loraR(8).loraAlpha(16).loraDropout(0.05).targetModules("all-linear").maxSteps(60)
            .batchSize(4).gradientAccumulationSteps(2).learningRate(5e-3).schedule("cosine").warmupRatio(0.1).optimizer("paged_adamw_32bit").logEvery(10)
            .evalEvery(20).saveEvery(20).outputDir(tmp.resolve("out")).seed(7).build().fit();
    assertEquals(60, result.steps());
    List<String> metrics = Files.readAllLines(result.runDir().resolve("metrics.jsonl"));
    double first = Double.parseDouble(metrics.getFirst().replaceAll(".*\"loss\":\\s*([0-9.eE+-]+).*", "$1"));
    assertTrue(result.finalLoss() < 0.85 * first, "bf16 training loss should fall: " + first + " -> " + result.finalLoss());
    assertTrue(Files.exists(result.adapterDir().resolve("adapter_model.safetensors")));
  }
}
