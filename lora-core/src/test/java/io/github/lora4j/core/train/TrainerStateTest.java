package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.github.lora4j.core.model.InvalidConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerStateTest {

  @TempDir Path dir;

  /** The fields of transformers' TrainerState dataclass; load_from_json passes the file's keys to it. */
  private static final List<String> TRANSFORMERS_KEYS = List.of("best_global_step", "best_metric",
      "best_model_checkpoint", "epoch", "eval_steps", "global_step", "is_hyper_param_search",
      "is_local_process_zero", "is_world_process_zero", "log_history", "logging_steps", "max_steps",
      "num_input_tokens_seen", "num_train_epochs", "save_steps", "stateful_callbacks", "total_flos",
      "train_batch_size", "trial_name", "trial_params");

  private static TrainerState sample() {
    return TrainerState.start(1000, 3, 16, 10, 100, 100)
        .atStep(10, 0.03, 20_480).withLog(new StepMetrics(10, 0.03, 2.5, 1e-5, 1.5, 4000, 123_456_789))
        .atStep(100, 0.3, 204_800)
        .withLog(new StepMetrics(100, 0.3, Double.NaN, 1e-4, 0.5, 4100.5, 123_456_789)
            .withEval(Map.of("eval_loss", 1.75)))
        .withBest(1.75, 100, "out/run/checkpoint-100");
  }

  @Test
  void writesExactlyTransformersKeysSortedAndIndented() {
    String json = sample().toJson();
    var keys = JsonParser.parseString(json).getAsJsonObject().keySet();
    assertEquals(TRANSFORMERS_KEYS, List.copyOf(keys), "transformers' TrainerState(**json) takes no other key");
    assertEquals(new TreeSet<>(keys).stream().toList(), List.copyOf(keys));
    assertTrue(json.startsWith("{\n  \"best_global_step\": 100,\n  \"best_metric\": 1.75,\n"), json);
    assertTrue(json.endsWith("}\n"));
    assertTrue(json.contains("\"loss\": NaN"), "NaN as Python writes it");
  }

  @Test
  void roundTripsThroughTheFile() throws IOException {
    TrainerState s = sample();
    s.write(dir);
    TrainerState back = TrainerState.read(dir);
    assertEquals(s, back);
    assertEquals(100L, back.logHistory().get(1).get("step"));
    assertEquals(1.75, back.logHistory().get(1).get("eval_loss"));
    assertTrue(Double.isNaN((Double) back.logHistory().get(1).get("loss")));
    assertEquals(List.of(), Files.list(dir).filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
  }

  @Test
  void readsAStateAsTransformersWritesIt() throws InvalidConfigException {
    String json = """
        {
          "best_global_step": null,
          "best_metric": null,
          "best_model_checkpoint": null,
          "epoch": 1.5,
          "eval_steps": 500,
          "global_step": 30,
          "is_hyper_param_search": false,
          "is_local_process_zero": true,
          "is_world_process_zero": true,
          "log_history": [
            {"epoch": 0.5, "grad_norm": 0.8125, "learning_rate": 1e-05, "loss": 2.3, "step": 10},
            {"epoch": 1.5, "step": 30, "total_flos": 1234.5, "train_loss": 2.1, "train_runtime": 12.25}
          ],
          "logging_steps": 10,
          "max_steps": 60,
          "num_input_tokens_seen": 0,
          "num_train_epochs": 3,
          "save_steps": 500,
          "stateful_callbacks": {"TrainerControl": {"args": {"should_save": true}, "attributes": {}}},
          "total_flos": 1234.5,
          "train_batch_size": 8,
          "trial_name": null,
          "trial_params": null
        }
        """;
    TrainerState s = TrainerState.fromJson(json, "trainer_state.json");
    assertEquals(30, s.globalStep());
    assertEquals(1.5, s.epoch());
    assertEquals(60, s.maxSteps());
    assertEquals(3, s.numTrainEpochs());
    assertEquals(8, s.trainBatchSize());
    assertNull(s.bestMetric());
    assertEquals(2, s.logHistory().size());
    assertEquals(1e-5, s.logHistory().get(0).get("learning_rate"));
    assertEquals(12.25, s.logHistory().get(1).get("train_runtime"));
  }

  @Test
  void errorsNameTheFileAndTheKey() {
    var missing = assertThrows(InvalidConfigException.class, () -> TrainerState.fromJson("{}", "x/trainer_state.json"));
    assertTrue(missing.getMessage().startsWith("x/trainer_state.json: 'global_step'"), missing.getMessage());
    var wrong = assertThrows(InvalidConfigException.class,
        () -> TrainerState.fromJson("{\"global_step\": 3, \"best_metric\": \"low\"}", "s.json"));
    assertEquals("s.json: 'best_metric': must be a number, not a string", wrong.getMessage());
    var notDir = assertThrows(InvalidConfigException.class, () -> TrainerState.read(dir));
    assertEquals(dir + ": the directory holds no trainer_state.json", notDir.getMessage());
  }

  @Test
  void lowerIsBetterAndNaNNeverIs() {
    TrainerState s = TrainerState.start(10, 1, 1, 1, 1, 1);
    assertTrue(s.improvesOnBest(5));
    assertFalse(s.improvesOnBest(Double.NaN));
    s = s.withBest(2, 4, "checkpoint-4");
    assertTrue(s.improvesOnBest(1.5));
    assertFalse(s.improvesOnBest(2));
    assertFalse(s.improvesOnBest(2.5));
  }

  @Test
  void historyCannotBeChangedFromOutside() {
    TrainerState s = sample();
    assertThrows(UnsupportedOperationException.class, () -> s.logHistory().add(Map.of()));
    assertThrows(UnsupportedOperationException.class, () -> s.logHistory().get(0).put("loss", 0.0));
  }
}
