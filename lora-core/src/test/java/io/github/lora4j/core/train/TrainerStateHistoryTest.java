package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link TrainerState#stepMetrics()}: the log history back as the steps a report draws. */
class TrainerStateHistoryTest {

  @Test
  void lora4jsOwnHistoryComesBackAsLogged() throws Exception {
    var a = new StepMetrics(10, 0.25, 2.5, 1e-4, 0.9, 5400, 3L << 30);
    var b = new StepMetrics(20, 0.5, 2.1, 9e-5, 0.7, 5600, 3L << 30).withEval(Map.of("eval_loss", 2.2, "eval_price_mae", 41.5));
    var c = new StepMetrics(30, 0.75, Double.NaN, 8e-5, Double.POSITIVE_INFINITY, 0, 0);
    TrainerState s = TrainerState.start(100, 1, 8, 10, 20, 10).withLog(a).withLog(b).withLog(c);
    TrainerState read = TrainerState.fromJson(s.toJson(), "trainer_state.json");
    List<StepMetrics> back = read.stepMetrics();
    assertEquals(3, back.size());
    assertEquals(a, back.get(0));
    assertEquals(b.step(), back.get(1).step());
    assertEquals(b.loss(), back.get(1).loss());
    assertEquals(b.evalMetrics(), Map.copyOf(back.get(1).evalMetrics()));
    assertTrue(Double.isNaN(back.get(2).loss()), "a diverged step stays diverged");
  }

  @Test
  void transformersEvaluationEntriesJoinTheirStepAndSummariesAreLeftOut() throws Exception {
    String json = """
        {"global_step": 20, "log_history": [
          {"epoch": 0.5, "grad_norm": 0.81, "learning_rate": 1e-05, "loss": 2.3, "step": 10},
          {"epoch": 1.0, "grad_norm": 0.62, "learning_rate": 5e-06, "loss": 2.0, "step": 20},
          {"epoch": 1.0, "eval_loss": 2.05, "eval_runtime": 1.5, "eval_samples_per_second": 10.0, "step": 20},
          {"epoch": 1.0, "step": 20, "total_flos": 1234.5, "train_loss": 2.1, "train_runtime": 12.25}
        ]}
        """;
    List<StepMetrics> back = TrainerState.fromJson(json, "trainer_state.json").stepMetrics();
    assertEquals(List.of(10L, 20L), back.stream().map(StepMetrics::step).toList());
    StepMetrics twenty = back.get(1);
    assertEquals(2.0, twenty.loss());
    assertEquals(5e-6, twenty.learningRate());
    assertEquals(2.05, twenty.evalLoss().getAsDouble());
    assertEquals(0.0, twenty.tokensPerSecond(), "transformers does not log it");
  }

  @Test
  void anEvaluationBeforeItsTrainingEntryKeepsBoth() throws Exception {
    String json = """
        {"global_step": 5, "log_history": [
          {"epoch": 0.1, "eval_loss": 3.0, "step": 5},
          {"epoch": 0.1, "learning_rate": 1e-04, "loss": 3.2, "step": 5}
        ]}
        """;
    StepMetrics five = TrainerState.fromJson(json, "s").stepMetrics().getFirst();
    assertEquals(3.2, five.loss());
    assertEquals(3.0, five.evalLoss().getAsDouble());
  }
}
