package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.lora.LoraAdapter;
import io.github.lora4j.core.lora.PeftAdapters;
import io.github.lora4j.core.model.ModelConfig;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.tensor.Backend;
import io.github.lora4j.tensor.Backends;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fit() end to end on the CPU: the golden tiny Llama with a word-level tokenizer made here, a
 * prompt-completion dataset whose completion follows from the prompt, 60 AdamW steps with
 * accumulation, evaluation and checkpoints.
 */
class TrainerFitTest {
  /** Found from the module directory (Maven) or the repository root (the GPU runner). */
  static final Path MODEL =
      Files.isDirectory(Path.of("src/test/resources/golden")) ? Path.of("src/test/resources/golden/llama_gqa/model") : Path.of("lora-core/src/test/resources/golden/llama_gqa/model");

  /** A model directory: the golden weights plus a word-level tokenizer over the model's 96 ids. */
  static Path modelWithTokenizer(Path tmp) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    Files.copy(MODEL.resolve("config.json"), dir.resolve("config.json"));
    Files.copy(MODEL.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    StringBuilder vocab = new StringBuilder("\"<pad>\": 0, \"<s>\": 1, \"</s>\": 2, \"<unk>\": 3");
    for (int i = 4; i < 96; i++) {
      vocab.append(", \"w").append(i).append("\": ").append(i);
    }
    String special = "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true";
    Files.writeString(
        dir.resolve("tokenizer.json"),
        "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": ["
            + "{\"id\": 0, \"content\": \"<pad>\", " + special + "}, {\"id\": 1, \"content\": \"<s>\", " + special + "}, {\"id\": 2, \"content\": \"</s>\", " + special + "}],"
            + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null, \"decoder\": null,"
            + " \"model\": {\"type\": \"WordLevel\", \"vocab\": {" + vocab + "}, \"unk_token\": \"<unk>\"}}");
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"pad_token\": \"<pad>\"}");
    return dir;
  }

  /** Prompts of 4 random words; the completion is the first word repeated: learnable by LoRA. */
  static Path data(Path tmp, String name, int n, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int first = 4 + r.nextInt(20);
      String prompt = "w" + first + " w" + (30 + r.nextInt(60)) + " w" + (30 + r.nextInt(60)) + " w" + (30 + r.nextInt(60));
      lines.append("{\"prompt\": \"").append(prompt).append("\", \"completion\": \" w").append(first).append(" w").append(first).append("\"}\n");
    }
    return Files.writeString(tmp.resolve(name), lines);
  }

  @Test
  void trainsLogsChecksPointsAndWritesAPeftAdapter(@TempDir Path tmp) throws Exception {
    Path model = modelWithTokenizer(tmp);
    TrainingResult result =
        Trainer.builder().baseModel(model).device(Device.cpu()).trainData(data(tmp, "train.jsonl", 64, 1)).evalData(data(tmp, "eval.jsonl", 16, 2))
            .loraR(8).loraAlpha(16).loraDropout(0.05).targetModules("all-linear").maxSteps(60).batchSize(4).gradientAccumulationSteps(2)
            .learningRate(5e-3).schedule("cosine").warmupRatio(0.1).logEvery(10).evalEvery(20).saveEvery(20).saveTotalLimit(1).loadBestAtEnd(true)
            .outputDir(tmp.resolve("out")).project("fit-test").seed(7).build().fit();

    assertEquals(60, result.steps());
    assertTrue(result.runDir().getFileName().toString().matches("fit-test-\\d{4}-\\d{2}-\\d{2}_\\d{2}\\.\\d{2}\\.\\d{2}"), result.runDir().toString());
    List<String> metrics = Files.readAllLines(result.runDir().resolve("metrics.jsonl"));
    assertEquals(6, metrics.size(), "a line every 10 steps: " + metrics);
    double first = loss(metrics.getFirst());
    double last = loss(metrics.getLast());
    assertTrue(last < 0.85 * first, "training loss should fall: " + first + " -> " + last);
    assertTrue(result.bestEvalLoss().isPresent() && result.bestCheckpoint().isPresent(), "evaluated and checkpointed: " + result);
    try (Stream<Path> files = Files.list(result.runDir())) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertTrue(names.contains("report.html") && names.contains("adapter") && names.contains("runs"), names.toString());
      long checkpoints = names.stream().filter(n -> n.startsWith("checkpoint-")).count();
      assertTrue(checkpoints >= 1 && checkpoints <= 2, "saveTotalLimit 1 keeps the newest plus the best: " + names);
    }
    assertTrue(Files.exists(result.bestCheckpoint().get().resolve("trainer_state.json")));
    if (Files.getFileStore(result.runDir()).supportsFileAttributeView("posix")) {
      // Written beside and renamed, yet as readable as any file created there (not a temp file's 0600).
      var usual = Files.getPosixFilePermissions(Files.createFile(result.runDir().resolve("probe")));
      var usualDir = Files.getPosixFilePermissions(Files.createDirectory(result.runDir().resolve("probe-dir")));
      for (Path p : List.of(result.runDir().resolve("report.html"), result.runDir().resolve("metrics.jsonl"), result.adapterDir().resolve("adapter_model.safetensors"),
          result.adapterDir().resolve("adapter_config.json"), result.bestCheckpoint().get().resolve("trainer_state.json"))) {
        assertEquals(usual, Files.getPosixFilePermissions(p), p.toString());
      }
      assertEquals(usualDir, Files.getPosixFilePermissions(result.bestCheckpoint().get()), "checkpoint folder");
    }
    try (Backend cpu = Backends.open(Device.cpu());
        LoraAdapter adapter = PeftAdapters.load(result.adapterDir(), ModelConfig.load(model), cpu)) {
      // r * (in + out) for q 32+32, k 32+16, v 32+16, o 32+32, gate 32+64, up 32+64, down 64+32, in 2 layers.
      assertEquals(2 * 8 * (64 + 48 + 48 + 64 + 96 + 96 + 96), adapter.parameterCount(), "the adapter reloads with every module");
    }
  }

  @Test
  void pagedAdamWTrainsLikeAdamW(@TempDir Path tmp) throws Exception {
    Path model = modelWithTokenizer(tmp);
    Path train = data(tmp, "train.jsonl", 32, 3);
    double[] finalLoss = new double[2];
    String[] optimizers = {"adamw_torch", "paged_adamw_32bit"};
    for (int i = 0; i < 2; i++) {
      finalLoss[i] =
          Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(4).loraAlpha(8).maxSteps(12).batchSize(4).learningRate(3e-3)
              .optimizer(optimizers[i]).logEvery(4).saveEvery(12).outputDir(tmp.resolve("out-" + i)).runName("run").seed(5).build().fit().finalLoss();
    }
    assertEquals(finalLoss[0], finalLoss[1], 0.0, "paged AdamW is AdamW with its state in host memory: the same losses");
  }

  @Test
  void aResumedRunLogsTheLossesOfAnUninterruptedOne(@TempDir Path tmp) throws Exception {
    Path model = modelWithTokenizer(tmp);
    Path train = data(tmp, "train.jsonl", 40, 9);
    java.util.function.Supplier<Trainer.Builder> settings =
        () -> Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(4).loraAlpha(8).loraDropout(0.1).targetModules("all-linear")
            .maxSteps(20).batchSize(4).gradientAccumulationSteps(2).learningRate(3e-3).schedule("cosine").warmupSteps(2).logEvery(1).saveEvery(10)
            .outputDir(tmp.resolve("out")).project("resume").seed(11);
    TrainingResult full = settings.get().runName("resume-2026-01-01_00.00.00").build().fit();
    List<String> uninterrupted = Files.readAllLines(full.runDir().resolve("metrics.jsonl"));
    assertEquals(20, uninterrupted.size());
    // As if the run had died after step 10's checkpoint.
    deleteTree(full.runDir().resolve("checkpoint-20"));
    TrainingResult resumed = settings.get().resumeFrom("latest").build().fit();
    assertEquals(full.runDir().toAbsolutePath(), resumed.runDir().toAbsolutePath(), "the run continues in its own directory");
    List<String> after = Files.readAllLines(resumed.runDir().resolve("metrics.jsonl"));
    assertEquals(20, after.size(), "steps 11-20 are logged again, after the first 10");
    for (int i = 10; i < 20; i++) {
      double a = loss(uninterrupted.get(i));
      double b = loss(after.get(i));
      assertEquals(a, b, 1e-6 * Math.abs(a), "step " + (i + 1) + ": resumed loss equals the uninterrupted run's");
    }
    assertEquals(full.finalLoss(), resumed.finalLoss(), 1e-6 * full.finalLoss());
  }

  @Test
  void resumingWithAnotherLoraConfigFailsBeforeTraining(@TempDir Path tmp) throws Exception {
    Path model = modelWithTokenizer(tmp);
    Path train = data(tmp, "train.jsonl", 16, 9);
    Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(4).maxSteps(2).batchSize(4).saveEvery(2).outputDir(tmp.resolve("out"))
        .project("p").build().fit();
    Exception e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(8).maxSteps(4).batchSize(4).outputDir(tmp.resolve("out"))
                .project("p").resumeFrom("latest").build().fit());
    assertTrue(e.getMessage().contains("r=4") && e.getMessage().contains("r=8"), e.getMessage());
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static double loss(String jsonLine) {
    var m = java.util.regex.Pattern.compile("\"loss\":\\s*([0-9.eE+-]+)").matcher(jsonLine);
    assertTrue(m.find(), jsonLine);
    return Double.parseDouble(m.group(1));
  }
}
