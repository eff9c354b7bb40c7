package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.optim.Optimizers;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.ScheduleType;
import io.github.lora4j.sched.Schedules;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** schedule(...) and optimizer(...) take lora-sched and lora-optim objects as well as transformers' names. */
class TrainerScheduleAndOptimizerTest {

  @TempDir Path tmp;

  private Trainer.Builder tiny(String run) throws Exception {
    Path model = Files.isDirectory(tmp.resolve("model")) ? tmp.resolve("model") : TrainerFitTest.modelWithTokenizer(tmp);
    Path train = Files.exists(tmp.resolve("train.jsonl")) ? tmp.resolve("train.jsonl") : TrainerFitTest.data(tmp, "train.jsonl", 16, 4);
    return Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(4).loraAlpha(8).maxSteps(6).batchSize(4).logEvery(1)
        .saveEvery(6).outputDir(tmp.resolve("out")).runName(run).seed(5);
  }

  @Test
  void aScheduleFactoryGetsTheRunsStepsAndDrivesTheLearningRate() throws Exception {
    List<Long> asked = new ArrayList<>();
    List<LearningRateSchedule> made = new ArrayList<>();
    var r = tiny("factory").schedule(steps -> {
      asked.add(steps);
      LearningRateSchedule s = Schedules.polynomial(3e-3, steps, 1e-4, 2.0).withWarmupSteps(2);
      made.add(s);
      return s;
    }).build().fit();
    assertEquals(List.of(6L), asked, "called once, with maxSteps");
    List<Double> lrs = values(Files.readAllLines(r.runDir().resolve("metrics.jsonl")), "learning_rate");
    assertEquals(6, lrs.size());
    for (int step = 1; step <= 6; step++) {
      assertEquals(made.getFirst().learningRate(step - 1), lrs.get(step - 1), 1e-12, "step " + step + " uses the schedule's rate of update " + (step - 1));
    }
    String report = Files.readString(r.runDir().resolve("report.html"));
    assertTrue(report.contains("polynomial(lr=0.003, totalSteps=6, warmupSteps=2"), "the report names the schedule as built");
  }

  @Test
  void aScheduleTypeIsItsTransformersName() throws Exception {
    assertEquals("cosine_with_restarts", tiny("t").schedule(ScheduleType.COSINE_WITH_RESTARTS).build().config().schedule());
    TrainerConfig replaced = tiny("t").schedule(n -> Schedules.constant(1e-3)).schedule(ScheduleType.COSINE).build().config();
    assertEquals("cosine", replaced.schedule());
    assertTrue(replaced.scheduleFactory().isEmpty(), "a later schedule(...) replaces the factory");
    assertEquals("custom", tiny("t").schedule(n -> Schedules.constant(1e-3)).build().config().schedule());
  }

  @Test
  void aFactoryCarriesItsOwnRateAndWarmup() throws Exception {
    TrainerConfigException e = assertThrows(TrainerConfigException.class,
        () -> tiny("t").learningRate(1e-4).warmupRatio(0.1).schedule(n -> Schedules.cosine(2e-4, n)).build());
    assertEquals(2, e.problems().size(), e.problems().toString());
    assertTrue(e.problems().get(0).startsWith("learningRate is set (1.0E-4) but schedule(factory) makes the schedule"), e.problems().get(0));
    assertTrue(e.problems().get(1).startsWith("warmupRatio/warmupSteps are set (0.1, 0)"), e.problems().get(1));
    IllegalArgumentException atFit = assertThrows(IllegalArgumentException.class,
        () -> tiny("t").schedule(n -> Schedules.cosine(2e-4, n).withWarmupSteps(100)).build().fit());
    assertTrue(atFit.getMessage().startsWith("schedule(factory) failed for a run of 6 steps: "), atFit.getMessage());
  }

  @Test
  void anOptimizerBuilderKeepsItsOwnSettingsAndTakesTheTrainersRateDecayAndClipping() throws Exception {
    double byName = tiny("name").learningRate(3e-3).optimizer("adamw_torch").build().fit().finalLoss();
    // Weight decay set on the builder is replaced by the trainer's (0): the same run as by name.
    var sameAsName = tiny("decay").learningRate(3e-3).optimizer(Optimizers.adamwTorch().weightDecay(0.5)).build();
    assertEquals("AdamW", sameAsName.config().optimizer());
    assertEquals(byName, sameAsName.fit().finalLoss(), 0.0);
    // Betas are the builder's own: another run.
    double otherBetas = tiny("betas").learningRate(3e-3).optimizer(Optimizers.adamwTorch().betas(0.5, 0.6)).build().fit().finalLoss();
    assertNotEquals(byName, otherBetas);
    assertEquals("PagedAdamW", tiny("t").optimizer(Optimizers.pagedAdamw8bit()).build().config().optimizer());
    assertEquals("sgd", tiny("t").optimizer(Optimizers.sgd()).optimizer("SGD").build().config().optimizer(), "a later optimizer(...) replaces the builder");
  }

  private static List<Double> values(List<String> jsonLines, String key) {
    var out = new ArrayList<Double>();
    Pattern p = Pattern.compile("\"" + key + "\":\\s*([0-9.eE+-]+)");
    for (String line : jsonLines) {
      Matcher m = p.matcher(line);
      assertTrue(m.find(), line);
      out.add(Double.parseDouble(m.group(1)));
    }
    return out;
  }
}
