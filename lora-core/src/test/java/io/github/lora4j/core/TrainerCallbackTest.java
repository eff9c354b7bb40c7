package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.train.StepMetrics;
import io.github.lora4j.core.train.TrainerCallback;
import io.github.lora4j.core.train.TrainerCallbackException;
import io.github.lora4j.core.train.TrainerControl;
import io.github.lora4j.core.train.TrainerState;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.core.train.TrainingStart;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Callbacks on the CPU with the tiny model of {@link TrainerFitTest}: the order of events, early stops, and a callback that throws. */
class TrainerCallbackTest {

  /** Writes every event it sees as a line, prefixed with its name. */
  static final class Recorder implements TrainerCallback {
    final String name;
    final List<String> events;

    Recorder(String name, List<String> events) {
      this.name = name;
      this.events = events;
    }

    @Override
    public void onTrainBegin(TrainingStart start, TrainerControl control) {
      events.add(name + " begin " + start.firstStep() + ".." + start.totalSteps());
    }

    @Override
    public void onStepEnd(long step, TrainerControl control) {
      events.add(name + " stepEnd " + step);
    }

    @Override
    public void onLog(StepMetrics m, TrainerControl control) {
      events.add(name + " log " + m.step());
    }

    @Override
    public void onEvaluate(StepMetrics m, TrainerControl control) {
      assertTrue(m.evalLoss().isPresent(), "onEvaluate brings the evaluation's metrics");
      events.add(name + " evaluate " + m.step());
    }

    @Override
    public void onSave(long step, Path checkpoint, TrainerControl control) {
      // The checkpoint is complete when the callback hears of it.
      assertTrue(Files.isRegularFile(checkpoint.resolve(TrainerState.FILE_NAME)), checkpoint.toString());
      events.add(name + " save " + step + " " + checkpoint.getFileName());
    }

    @Override
    public void onTrainEnd(TrainingResult result) {
      assertTrue(Files.isDirectory(result.adapterDir()), "the final adapter is written before onTrainEnd");
      events.add(name + " end " + result.steps());
    }
  }

  private static Trainer.Builder tiny(Path tmp, Path model, Path train) {
    return Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).loraR(4).loraAlpha(8).batchSize(4).learningRate(3e-3)
        .outputDir(tmp.resolve("out")).project("cb").seed(3);
  }

  @Test
  void eventsComeInTransformersOrderAndCallbacksInTheirs(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    List<String> events = new ArrayList<>();
    tiny(tmp, model, TrainerFitTest.data(tmp, "train.jsonl", 16, 1)).evalData(TrainerFitTest.data(tmp, "eval.jsonl", 8, 2)).maxSteps(4).logEvery(2)
        .evalEvery(2).saveEvery(4).callbacks(new Recorder("a", events), new Recorder("b", events)).build().fit();
    assertEquals(
        List.of("a begin 1..4", "b begin 1..4", "a stepEnd 1", "b stepEnd 1", "a stepEnd 2", "b stepEnd 2", "a log 2", "b log 2", "a evaluate 2",
            "b evaluate 2", "a stepEnd 3", "b stepEnd 3", "a stepEnd 4", "b stepEnd 4", "a log 4", "b log 4", "a evaluate 4", "b evaluate 4",
            "a save 4 checkpoint-4", "b save 4 checkpoint-4", "a end 4", "b end 4"),
        events);
  }

  @Test
  void aCallbackStopsTrainingAfterNStepsAndTheStepIsSavedAsTheLast(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    List<TrainingResult> ended = new ArrayList<>();
    TrainerCallback threeSteps = new TrainerCallback() {
      @Override
      public void onStepEnd(long step, TrainerControl control) {
        if (step == 3) {
          control.stopTraining("three steps are enough");
        }
      }

      @Override
      public void onTrainEnd(TrainingResult result) {
        ended.add(result);
      }
    };
    TrainingResult r = tiny(tmp, model, TrainerFitTest.data(tmp, "train.jsonl", 32, 1)).maxSteps(50).logEvery(10).saveEvery(10).callbacks(threeSteps)
        .build().fit();
    assertEquals(3, r.steps());
    assertEquals("three steps are enough", r.stopReason().orElseThrow());
    assertTrue(Double.isFinite(r.finalLoss()), "the stopping step is logged: " + r.finalLoss());
    List<String> metrics = Files.readAllLines(r.runDir().resolve("metrics.jsonl"));
    assertEquals(1, metrics.size(), metrics.toString());
    assertTrue(metrics.getFirst().contains("\"step\":3"), metrics.getFirst());
    assertEquals(3, TrainerState.read(r.runDir().resolve("checkpoint-3")).globalStep(), "a checkpoint of the last step, to resume from");
    assertTrue(Files.isRegularFile(r.adapterDir().resolve("adapter_model.safetensors")));
    assertTrue(Files.isRegularFile(r.runDir().resolve("report.html")));
    assertEquals(1, ended.size());
    assertSame(r, ended.getFirst(), "onTrainEnd gets the result fit() returns");
  }

  @Test
  void aStopOnEvaluationSavesThatStepAsTheBest(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    TrainerCallback firstEvaluation = new TrainerCallback() {
      @Override
      public void onEvaluate(StepMetrics m, TrainerControl control) {
        control.stopTraining("eval_loss " + m.evalLoss().getAsDouble());
      }
    };
    TrainingResult r = tiny(tmp, model, TrainerFitTest.data(tmp, "train.jsonl", 32, 1)).evalData(TrainerFitTest.data(tmp, "eval.jsonl", 8, 2))
        .maxSteps(20).logEvery(2).evalEvery(4).saveEvery(100).callbacks(firstEvaluation).build().fit();
    assertEquals(4, r.steps());
    assertTrue(r.stopReason().orElseThrow().startsWith("eval_loss "), r.stopReason().toString());
    assertEquals(r.runDir().resolve("checkpoint-4").toString(), r.bestCheckpoint().orElseThrow().toString());
  }

  @Test
  void aCallbackThatThrowsStopsTrainingLeavingOnlyCompleteCheckpoints(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    Path train = TrainerFitTest.data(tmp, "train.jsonl", 32, 1);
    IllegalStateException boom = new IllegalStateException("boom");
    TrainerCallback failsAtStep4 = new TrainerCallback() {
      @Override
      public void onLog(StepMetrics m, TrainerControl control) {
        if (m.step() == 4) {
          throw boom;
        }
      }
    };
    TrainerCallbackException e = assertThrows(TrainerCallbackException.class,
        () -> tiny(tmp, model, train).maxSteps(8).logEvery(2).saveEvery(2).runName("run").callbacks(failsAtStep4).build().fit());
    assertSame(boom, e.getCause());
    assertEquals("onLog", e.event());
    assertEquals(4, e.step());
    assertTrue(e.getMessage().contains(failsAtStep4.getClass().getName()) && e.getMessage().contains("resumeFrom(\"latest\")"), e.getMessage());

    Path run = tmp.resolve("out/run");
    try (Stream<Path> s = Files.list(run)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
      assertEquals(List.of("checkpoint-2", "metrics.jsonl", "runs"), names, "no checkpoint-4, no half-written one, no final adapter or report");
    }
    assertEquals(2, TrainerState.read(run.resolve("checkpoint-2")).globalStep());
    assertEquals(2, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "steps 2 and 4 were logged before the callback threw");

    // The run goes on from its last checkpoint.
    TrainingResult resumed = tiny(tmp, model, train).maxSteps(8).logEvery(2).saveEvery(2).runName("run").resumeFrom(run.toString()).build().fit();
    assertEquals(8, resumed.steps());
    assertFalse(resumed.stopReason().isPresent());
    assertEquals(4, Files.readAllLines(run.resolve("metrics.jsonl")).size());
  }
}
