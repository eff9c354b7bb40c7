package io.github.lora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.core.lora.TargetModule;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config files and flags to TrainerConfig, and every way they can be wrong. */
class TrainSettingsTest {
  @TempDir Path dir;

  /** What build() checks on disk: a directory with config.json, and a data file. */
  private Path model;
  private Path data;

  private void inputs() throws IOException {
    model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{}");
    data = Files.writeString(dir.resolve("train.jsonl"), "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
  }

  private Path file(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }

  private static TrainerConfig config(TrainSettings settings) {
    return settings.build(Trainer.builder(), List.of()).orElseThrow().config();
  }

  /** The course's seed workload, as the builder names it. */
  private String camelCase() {
    return """
        baseModel: %s
        trainData: %s
        loraR: 32
        loraAlpha: 64
        loraDropout: 0.1
        targetModules: [q_proj, k_proj, v_proj, o_proj]
        epochs: 1
        batchSize: 16
        gradientAccumulationSteps: 1
        learningRate: 1e-4
        schedule: cosine
        warmupRatio: 0.03
        optimizer: paged_adamw_32bit
        maxSequenceLength: 182
        logEvery: 50
        saveEvery: 2000
        device: cpu
        computeType: bf16
        useRsLora: true
        """.formatted(model, data);
  }

  /** The same run as transformers, TRL and PEFT name its settings. */
  private String transformersNames() {
    return """
        model_name_or_path: %s
        train_file: %s
        r: 32
        lora_alpha: 64
        lora_dropout: 0.1
        target_modules: q_proj,k_proj,v_proj,o_proj
        num_train_epochs: 1
        per_device_train_batch_size: 16
        gradient_accumulation_steps: 1
        learning_rate: 0.0001
        lr_scheduler_type: cosine
        warmup_ratio: 0.03
        optim: paged_adamw_32bit
        max_length: 182
        logging_steps: 50
        save_steps: 2000
        device: cpu
        torch_dtype: bfloat16
        use_rslora: true
        """.formatted(model, data);
  }

  @Test
  void camelCaseAndTransformersKeysGiveTheSameRun() throws IOException {
    inputs();
    TrainerConfig camel = config(TrainSettings.readFile(file("camel.yaml", camelCase())));
    TrainerConfig snake = config(TrainSettings.readFile(file("snake.yml", transformersNames())));
    assertEquals(camel, snake);
    assertEquals(32, camel.loraR());
    assertEquals(64.0, camel.loraAlpha());
    assertEquals(0.1, camel.loraDropout());
    assertEquals(Set.of(TargetModule.Q_PROJ, TargetModule.K_PROJ, TargetModule.V_PROJ, TargetModule.O_PROJ), camel.targetModules());
    assertEquals(1.0, camel.epochs());
    assertEquals(16, camel.batchSize());
    assertEquals(1e-4, camel.learningRate());
    assertEquals("cosine", camel.schedule());
    assertEquals(0.03, camel.warmupRatio());
    assertEquals("paged_adamw_32bit", camel.optimizer());
    assertEquals(182, camel.maxSequenceLength());
    assertEquals(50, camel.logEvery());
    assertEquals(2000, camel.saveEvery());
    assertEquals(Device.cpu(), camel.device());
    assertEquals(Optional.of(DType.BF16), camel.computeType());
    assertTrue(camel.useRsLora());
  }

  @Test
  void aJsonFileReadsLikeTheYaml() throws IOException {
    inputs();
    String json = """
        {"model": "%s", "data": "%s", "lora_r": 16, "learning_rate": 2e-4, "target_modules": ["all-linear"],
         "max_seq_length": 128, "save_total_limit": 2, "resume_from_checkpoint": null, "gradient_checkpointing": true}
        """.formatted(model, data);
    TrainerConfig c = config(TrainSettings.readFile(file("run.json", json)));
    assertEquals(16, c.loraR());
    assertEquals(2e-4, c.learningRate());
    assertEquals(7, c.targetModules().size());
    assertEquals(128, c.maxSequenceLength());
    assertEquals(Optional.of(2), c.saveTotalLimit());
    assertEquals(Optional.empty(), c.resumeFrom(), "null leaves a setting as it is");
    assertTrue(c.gradientCheckpointing());
  }

  @Test
  void flagsOverrideTheFile() throws IOException {
    inputs();
    TrainSettings file = TrainSettings.readFile(file("run.yaml", camelCase()));
    TrainSettings flags = TrainSettings.fromFlags(flags(
        TrainSetting.LORA_R, "8", TrainSetting.LEARNING_RATE, "3e-3", TrainSetting.TARGET_MODULES, "q_proj,v_proj",
        TrainSetting.WARMUP_STEPS, "10", TrainSetting.USE_RS_LORA, "false"));
    TrainerConfig c = config(file.overriddenBy(flags));
    assertEquals(8, c.loraR());
    assertEquals(3e-3, c.learningRate());
    assertEquals(Set.of(TargetModule.Q_PROJ, TargetModule.V_PROJ), c.targetModules());
    assertEquals(10, c.warmupSteps());
    assertEquals(0.0, c.warmupRatio(), "--warmup-steps replaces the file's warmup_ratio instead of clashing with it");
    assertEquals(64.0, c.loraAlpha(), "what the flags do not say comes from the file");
    assertTrue(!c.useRsLora());
  }

  @Test
  void epochsGivenAloneReplaceAPresetsMaxSteps() throws IOException {
    inputs();
    Trainer.Builder preset = Trainer.builder().maxSteps(200).warmupRatio(0.05);
    TrainSettings flags = TrainSettings.fromFlags(flags(
        TrainSetting.BASE_MODEL, model.toString(), TrainSetting.TRAIN_DATA, data.toString(), TrainSetting.EPOCHS, "2",
        TrainSetting.WARMUP_STEPS, "3"));
    TrainerConfig c = flags.build(preset, List.of()).orElseThrow().config();
    assertEquals(-1, c.maxSteps());
    assertEquals(2.0, c.epochs());
    assertEquals(3, c.warmupSteps());
    assertEquals(0.0, c.warmupRatio());
  }

  @Test
  void unknownKeysAreNamedWithFileLineAndASuggestion() throws IOException {
    Path f = file("run.yaml", "lora_r: 8\nlearning_rte: 1e-4\nbf16: true\n");
    TrainSettings.BadSettings e = assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(f));
    assertEquals(List.of(
        f + ":2: unknown key 'learning_rte' (did you mean 'learning_rate'?); lora4j train --help lists the settings",
        f + ":3: unknown key 'bf16'; lora4j train --help lists the settings"), e.problems());
  }

  @Test
  void wrongTypesNameFileLineKeyAndValue() throws IOException {
    Path f = file("run.yaml", """
        lora_r: 8.5
        per_device_train_batch_size: sixteen
        use_rslora: maybe
        device: tpu
        torch_dtype: int8
        target_modules: {q: 1}
        model: 42
        """);
    TrainSettings.BadSettings e = assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(f));
    assertEquals(List.of(
        f + ":1: lora_r: must be an integer, not 8.5",
        f + ":2: per_device_train_batch_size: must be an integer, not 'sixteen'",
        f + ":3: use_rslora: must be true or false, not 'maybe'",
        f + ":4: device: must be cpu, cuda, cuda:N or auto, not 'tpu'",
        f + ":5: torch_dtype: must be bf16, fp16 or fp32, not 'int8'",
        f + ":6: target_modules: must be a single value, not a mapping: {\"q\":1}",
        f + ":7: model: must be a path, not 42"), e.problems());
  }

  @Test
  void outOfRangeValuesNameFileLineKeyAndValueAllAtOnce() throws IOException {
    inputs();
    Path f = file("run.yaml", "model: %s\ndata: %s\nlora_r: -1\nlora_dropout: 1.5\noptim: adam_wrong\n".formatted(model, data));
    TrainSettings settings = TrainSettings.readFile(f);
    TrainSettings.BadSettings e = assertThrows(TrainSettings.BadSettings.class, () -> settings.build(Trainer.builder(), List.of()));
    assertEquals(List.of(
        f + ":3: lora_r: loraR must be positive: -1",
        f + ":4: lora_dropout: loraDropout must be in [0, 1): 1.5",
        f + ":5: optim: optimizer must be one of " + String.join(", ", Trainer.OPTIMIZERS) + ": adam_wrong"), e.problems());
  }

  @Test
  void aBuilderProblemAboutAFlagNamesTheFlag() throws IOException {
    inputs();
    TrainSettings flags = TrainSettings.fromFlags(flags(TrainSetting.BASE_MODEL, model.toString(), TrainSetting.TRAIN_DATA, data.toString(),
        TrainSetting.EVAL_EVERY, "10"));
    TrainSettings.BadSettings e = assertThrows(TrainSettings.BadSettings.class, () -> flags.build(Trainer.builder(), List.of()));
    assertEquals(List.of("--eval-every: evalEvery is 10 but no evalData is set"), e.problems());
  }

  @Test
  void problemsAboutIgnoredSettingsAreLeftForLater() throws IOException {
    TrainSettings none = TrainSettings.empty();
    Trainer.Builder b = Trainer.builder().baseModel(dir.resolve("not-yet")).trainData(dir.resolve("not-yet.jsonl"));
    assertEquals(Optional.empty(), none.build(b, List.of(TrainSetting.BASE_MODEL, TrainSetting.TRAIN_DATA)));
  }

  @Test
  void aMissingFileADirectoryAndAnUnknownExtensionAreOneLineEach() throws IOException {
    Path missing = dir.resolve("nope.yaml");
    assertEquals(List.of(missing + ": no such file"),
        assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(missing)).problems());
    Path folder = Files.createDirectories(dir.resolve("folder.yaml"));
    assertEquals(List.of(folder + ": is a directory, not a config file"),
        assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(folder)).problems());
    Path toml = file("run.toml", "r = 8");
    assertEquals(List.of(toml + ": a config file must end in .yaml, .yml or .json"),
        assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(toml)).problems());
  }

  @Test
  void syntaxErrorsGiveTheLine() throws IOException {
    Path yaml = file("run.yaml", "lora_r: 8\ntarget_modules: [q_proj, k_proj\nlearning_rate: 1e-4\n");
    String problem = assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(yaml)).problems().getFirst();
    assertTrue(problem.startsWith(yaml + ":3:") && problem.contains("YAML syntax error: while parsing a flow sequence"), problem);
    Path json = file("run.json", "{\"lora_r\": 8,\n \"learning_rate\": }\n");
    problem = assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(json)).problems().getFirst();
    assertTrue(problem.startsWith(json + ":2:") && problem.contains("JSON syntax error"), problem);
  }

  @Test
  void theTopLevelMustBeAMappingAndAKeyMayNotComeTwice() throws IOException {
    Path list = file("list.yaml", "- lora_r: 8\n");
    assertEquals(List.of(list + ":1: the file must be a mapping of setting: value, not a list"),
        assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(list)).problems());
    Path twice = file("twice.yaml", "lora_r: 8\nr: 16\n");
    assertEquals(List.of(twice + ":2: r: sets loraR again (line 1 set it first)"),
        assertThrows(TrainSettings.BadSettings.class, () -> TrainSettings.readFile(twice)).problems());
  }

  @Test
  void badFlagValuesAreAllNamed() {
    TrainSettings.BadSettings e = assertThrows(TrainSettings.BadSettings.class,
        () -> TrainSettings.fromFlags(flags(TrainSetting.LORA_R, "x", TrainSetting.LEARNING_RATE, "fast")));
    assertEquals(List.of("--lora-r: must be an integer, not 'x'", "--learning-rate: must be a number, not 'fast'"), e.problems());
  }

  @Test
  void resumeFromTrueMeansLatest() throws IOException {
    assertEquals(Optional.of("latest"), TrainSettings.readFile(file("r.yaml", "resume_from_checkpoint: true")).get(TrainSetting.RESUME_FROM));
    assertEquals(Optional.empty(), TrainSettings.readFile(file("f.yaml", "resume_from_checkpoint: false")).get(TrainSetting.RESUME_FROM));
  }

  @Test
  void everyBuilderSettingHasAFlagAndAKey() {
    Set<String> mapped = Arrays.stream(TrainSetting.values()).map(TrainSetting::builderName).collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    // A setting whose value a command line can write must have a flag; one taking objects (callbacks) cannot.
    Set<Class<?>> writable = Set.of(int.class, long.class, double.class, boolean.class, String.class, String[].class, Path.class, Device.class,
        DType.class, TrainerConfig.Quantization.class);
    for (Method m : Trainer.Builder.class.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers()) && m.getReturnType() == Trainer.Builder.class && !mapped.contains(m.getName())
          && writable.containsAll(List.of(m.getParameterTypes()))) {
        missing.add(m.getName());
      }
    }
    assertEquals(List.of(), missing, "Trainer.Builder settings without a lora4j train flag: add them to TrainSetting");
    for (TrainSetting s : TrainSetting.values()) {
      for (String key : s.keys()) {
        assertEquals(Optional.of(s), TrainSettings.forKey(key), key);
      }
    }
  }

  /** The repository's root, from the module directory (Maven) or the root itself. */
  private static Path root() {
    return Files.isDirectory(Path.of("../docs")) ? Path.of("..") : Path.of(".");
  }

  @Test
  void docsCliListsEveryFlagAndKey() throws IOException {
    String docs = Files.readString(root().resolve("docs/cli.md"));
    List<String> missing = new ArrayList<>();
    for (TrainSetting s : TrainSetting.values()) {
      if (!docs.contains("`" + s.builderName() + "`")) {
        missing.add(s.builderName());
      }
      for (String flag : s.flags()) {
        if (!docs.contains("`" + flag + " ") && !docs.contains("`" + flag + "`")) {
          missing.add(flag);
        }
      }
    }
    for (String key : List.of("r", "lora_alpha", "per_device_train_batch_size", "num_train_epochs", "lr_scheduler_type", "optim", "max_length",
        "max_seq_length", "logging_steps", "save_steps", "load_best_model_at_end", "resume_from_checkpoint", "model_name_or_path")) {
      if (!docs.contains("`" + key + "`")) {
        missing.add(key);
      }
    }
    assertEquals(List.of(), missing, "docs/cli.md does not mention these");
  }

  @Test
  void theExampleConfigIsTheCoursesSeedWorkload() throws IOException {
    inputs();
    TrainSettings example = TrainSettings.readFile(root().resolve("examples/pricer-8b.yaml"));
    TrainSettings paths = TrainSettings.fromFlags(flags(TrainSetting.BASE_MODEL, model.toString(), TrainSetting.TRAIN_DATA, data.toString()));
    TrainerConfig c = config(example.overriddenBy(paths));
    assertEquals(32, c.loraR());
    assertEquals(64.0, c.loraAlpha());
    assertEquals(0.1, c.loraDropout());
    assertEquals(Set.of(TargetModule.Q_PROJ, TargetModule.K_PROJ, TargetModule.V_PROJ, TargetModule.O_PROJ), c.targetModules());
    assertEquals(1.0, c.epochs());
    assertEquals(-1, c.maxSteps());
    assertEquals(16, c.batchSize());
    assertEquals(1, c.gradientAccumulationSteps());
    assertEquals(1e-4, c.learningRate());
    assertEquals("cosine", c.schedule());
    assertEquals(0.03, c.warmupRatio());
    assertEquals("paged_adamw_32bit", c.optimizer());
    assertEquals(182, c.maxSequenceLength());
    assertEquals(50, c.logEvery());
    assertEquals(2000, c.saveEvery());
    assertEquals(Device.cuda(0), c.device());
  }

  @Property(tries = 200)
  void anySpellingOfABuilderNameFindsItsSetting(@ForAll TrainSetting s, @ForAll long casing) {
    // Every character upper or lower case by the bits of casing, and the kebab's dashes as '_' or '-'.
    String kebab = TrainSetting.kebab(s.builderName());
    StringBuilder key = new StringBuilder();
    for (int i = 0; i < kebab.length(); i++) {
      char c = kebab.charAt(i);
      boolean bit = ((casing >>> (i % 64)) & 1) == 1;
      key.append(c == '-' ? (bit ? '_' : '-') : bit ? Character.toUpperCase(c) : c);
    }
    assertEquals(Optional.of(s), TrainSettings.forKey(key.toString()), key.toString());
  }

  @Property(tries = 50)
  void integersRoundTripThroughFilesAndFlags(@ForAll @IntRange(min = 1, max = 4096) int r, @ForAll @IntRange(min = 1, max = 100_000) int steps)
      throws IOException {
    // jqwik does not inject JUnit's @TempDir.
    dir = Files.createTempDirectory("train-settings");
    try {
      inputs();
      TrainerConfig fromFile = config(TrainSettings.readFile(file("p.yaml", "model: %s\ndata: %s\nr: %d\nmax_steps: %d\n".formatted(model, data, r, steps))));
      TrainerConfig fromFlags = config(TrainSettings.fromFlags(flags(TrainSetting.BASE_MODEL, model.toString(), TrainSetting.TRAIN_DATA, data.toString(),
          TrainSetting.LORA_R, Integer.toString(r), TrainSetting.MAX_STEPS, Integer.toString(steps))));
      assertEquals(r, fromFile.loraR());
      assertEquals(steps, fromFile.maxSteps());
      assertEquals(fromFile, fromFlags);
    } finally {
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private static Map<TrainSetting, String> flags(Object... pairs) {
    Map<TrainSetting, String> m = new EnumMap<>(TrainSetting.class);
    for (int i = 0; i < pairs.length; i += 2) {
      m.put((TrainSetting) pairs[i], (String) pairs[i + 1]);
    }
    return m;
  }

}
