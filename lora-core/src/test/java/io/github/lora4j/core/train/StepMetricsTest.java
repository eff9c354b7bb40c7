package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class StepMetricsTest {

  private static void rejects(String message, Runnable r) {
    var e = assertThrows(IllegalArgumentException.class, r::run);
    assertEquals(message, e.getMessage());
  }

  @Test
  void checksEveryComponentAndNamesIt() {
    rejects("step must be >= 0: -1", () -> new StepMetrics(-1, 0, 1, 1e-4, 1, 0, 0));
    rejects("epoch must be finite and >= 0: NaN", () -> new StepMetrics(1, Double.NaN, 1, 1e-4, 1, 0, 0));
    rejects("learningRate must be finite and >= 0: -1.0E-4", () -> new StepMetrics(1, 0, 1, -1e-4, 1, 0, 0));
    rejects("tokensPerSecond must be finite and >= 0: Infinity",
        () -> new StepMetrics(1, 0, 1, 1e-4, 1, Double.POSITIVE_INFINITY, 0));
    rejects("deviceBytes must be >= 0: -5", () -> new StepMetrics(1, 0, 1, 1e-4, 1, 0, -5));
    rejects("evalMetrics must map non-blank names to values: { =1.0}",
        () -> new StepMetrics(1, 0, 1, 1e-4, 1, 0, 0, Map.of(" ", 1.0)));
  }

  @Test
  void divergedLossAndGradNormAreRecordedNotRefused() {
    var m = new StepMetrics(7, 0.1, Double.NaN, 1e-4, Double.POSITIVE_INFINITY, 10, 0);
    assertTrue(Double.isNaN(m.loss()));
    assertTrue(Double.isInfinite(m.gradNorm()));
  }

  @Test
  void evalMetricsKeepTheirOrderAndCannotBeChanged() {
    var eval = new LinkedHashMap<String, Double>();
    eval.put("eval_loss", 1.5);
    eval.put("eval_mae", 12.0);
    var m = new StepMetrics(10, 0.5, 2, 1e-4, 1, 100, 1).withEval(eval);
    eval.put("eval_later", 3.0);
    assertEquals(List.of("eval_loss", "eval_mae"), List.copyOf(m.evalMetrics().keySet()));
    assertThrows(UnsupportedOperationException.class, () -> m.evalMetrics().put("x", 1.0));
    assertTrue(m.hasEval());
    assertEquals(OptionalDouble.of(1.5), m.evalLoss());
    assertFalse(new StepMetrics(10, 0.5, 2, 1e-4, 1, 100, 1).hasEval());
    assertEquals(OptionalDouble.empty(), new StepMetrics(10, 0.5, 2, 1e-4, 1, 100, 1).evalLoss());
  }

  @Test
  void logEntryUsesTransformersKeysSorted() {
    var m = new StepMetrics(10, 0.5, 2.25, 1e-4, 0.75, 1234.5, 4096).withEval(Map.of("eval_loss", 1.5));
    Map<String, Object> e = m.toLogEntry();
    assertEquals(List.of("device_bytes", "epoch", "eval_loss", "grad_norm", "learning_rate", "loss", "step",
        "tokens_per_second"), List.copyOf(e.keySet()));
    assertEquals(10L, e.get("step"));
    assertEquals(4096L, e.get("device_bytes"));
    assertEquals(2.25, e.get("loss"));
    assertEquals(1.5, e.get("eval_loss"));
  }
}
