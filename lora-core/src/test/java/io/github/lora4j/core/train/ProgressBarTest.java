package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

  /** A clock the test moves. */
  static final class Clock implements InstantSource {
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

    @Override
    public Instant instant() {
      return now.get();
    }

    void advance(Duration d) {
      now.set(now.get().plus(d));
    }
  }

  @Test
  void withoutATerminalEachLoggedStepIsOneLineWithEta() {
    var clock = new Clock();
    var lines = new ArrayList<String>();
    try (var p = ProgressBar.lines(100, 0, lines::add, clock)) {
      clock.advance(Duration.ofSeconds(10));
      p.step(9);
      p.log(new StepMetrics(10, 0.1, 2.5, 1e-4, 1, 1000, 0));
      clock.advance(Duration.ofSeconds(10));
      p.log(new StepMetrics(20, 0.2, 2.25, 2e-4, 1, 12345.6, 0).withEval(Map.of("eval_loss", 2.4)));
    }
    assertEquals(List.of(
        "step 10/100 (10%) epoch 0.10 loss 2.5000 lr 1.00e-04 1,000 tokens/s ETA 1m30s",
        "step 20/100 (20%) epoch 0.20 loss 2.2500 lr 2.00e-04 12,346 tokens/s eval_loss 2.4000 ETA 1m20s"), lines);
  }

  @Test
  void afterAResumeTheEtaCountsOnlyTheStepsOfThisRun() {
    var clock = new Clock();
    var lines = new ArrayList<String>();
    var p = ProgressBar.lines(1000, 500, lines::add, clock);
    clock.advance(Duration.ofSeconds(50));
    p.log(new StepMetrics(550, 1, 1, 1e-4, 1, 10, 0));
    assertTrue(lines.get(0).endsWith("ETA 7m30s"), lines.get(0));
    var q = ProgressBar.lines(1000, 500, lines::add, clock);
    q.log(new StepMetrics(500, 1, 1, 1e-4, 1, 10, 0));
    assertTrue(lines.get(1).endsWith("ETA ?"), lines.get(1));
  }

  @Test
  void onATerminalTheBarShowsStepsAndTheMessage() {
    var out = new ByteArrayOutputStream();
    var consumer = new ConsoleProgressBarConsumer(new PrintStream(out, true, StandardCharsets.UTF_8), 160);
    try (var p = ProgressBar.bar(100, 0, Duration.ZERO, consumer)) {
      for (int s = 1; s <= 45; s++) {
        p.step(s);
      }
      p.log(new StepMetrics(45, 0.45, 1.2345, 2e-4, 1, 5123, 0));
    }
    String shown = out.toString(StandardCharsets.UTF_8);
    assertTrue(shown.contains("45/100"), shown);
    assertTrue(shown.contains("epoch 0.45 loss 1.2345 lr 2.00e-04 5,123 tokens/s"), shown);
    assertTrue(shown.contains("train"), shown);
  }

  @Test
  void pricerEvaluationsShowThePriceErrorAndHitRate() {
    var eval = new java.util.LinkedHashMap<String, Double>();
    eval.put("eval_loss", 0.83);
    eval.put(Evaluation.PRICE_MAE, 101.6);
    eval.put(Evaluation.PRICE_RMSLE, 0.84);
    eval.put(Evaluation.PRICE_HIT_RATE, 0.54);
    assertEquals("epoch 2.66 loss 0.8278 lr 5.47e-08 21,455 tokens/s eval_loss 0.8300 price MAE $101.60 hits 54%",
        ProgressBar.message(new StepMetrics(500, 2.66, 0.8278, 5.47e-8, 0.6, 21455, 0).withEval(eval)));
  }

  @Test
  void durationsReadAsAPersonWritesThem() {
    assertEquals("0s", ProgressBar.duration(Duration.ZERO));
    assertEquals("59s", ProgressBar.duration(Duration.ofSeconds(59)));
    assertEquals("2m05s", ProgressBar.duration(Duration.ofSeconds(125)));
    assertEquals("1h02m03s", ProgressBar.duration(Duration.ofSeconds(3723)));
  }

  @Test
  void stepsOutOfRangeAreRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> ProgressBar.lines(10, 11, s -> {}, new Clock()));
    assertEquals("need 0 <= firstStep <= totalSteps and totalSteps > 0: firstStep 11, totalSteps 10", e.getMessage());
  }
}
