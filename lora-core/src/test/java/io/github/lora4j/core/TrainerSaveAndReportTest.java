package io.github.lora4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.train.TrainerState;
import io.github.lora4j.core.train.TrainingResult;
import io.github.lora4j.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints at save steps that are not logged, and the report of a resumed run. */
class TrainerSaveAndReportTest {

  @Test
  void aCheckpointIsSavedAtASaveStepThatIsNotLogged(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    TrainingResult r = Trainer.builder().baseModel(model).device(Device.cpu()).trainData(TrainerFitTest.data(tmp, "train.jsonl", 16, 1)).loraR(4)
        .maxSteps(6).batchSize(4).logEvery(4).saveEvery(3).outputDir(tmp.resolve("out")).runName("run").build().fit();
    assertEquals(3, TrainerState.read(r.runDir().resolve("checkpoint-3")).globalStep(), "step 3 is a save step though not a logged one");
    assertEquals(6, TrainerState.read(r.runDir().resolve("checkpoint-6")).globalStep());
  }

  @Test
  void theReportOfAResumedRunShowsTheWholeRun(@TempDir Path tmp) throws Exception {
    Path model = TrainerFitTest.modelWithTokenizer(tmp);
    Path train = TrainerFitTest.data(tmp, "train.jsonl", 40, 9);
    Path eval = TrainerFitTest.data(tmp, "eval.jsonl", 8, 10);
    Supplier<Trainer.Builder> settings = () -> Trainer.builder().baseModel(model).device(Device.cpu()).trainData(train).evalData(eval).loraR(4).loraAlpha(8)
        .maxSteps(20).batchSize(4).learningRate(3e-3).logEvery(2).evalEvery(5).saveEvery(10).outputDir(tmp.resolve("out")).project("report").seed(11);
    TrainingResult full = settings.get().runName("run").build().fit();
    String uninterrupted = Files.readString(full.runDir().resolve("report.html"));
    // As if the run had died after step 10's checkpoint.
    deleteTree(full.runDir().resolve("checkpoint-20"));
    Files.delete(full.runDir().resolve("report.html"));
    TrainingResult resumed = settings.get().resumeFrom(full.runDir().resolve("checkpoint-10").toString()).build().fit();
    String report = Files.readString(resumed.runDir().resolve("report.html"));

    assertEquals(12, points(report, "train_loss"), "the logged steps 2, 4, ..., 20 and the evaluated 5 and 15, before the checkpoint as well as after");
    assertEquals(4, points(report, "eval_loss"), "evaluations at 5, 10, 15, 20");
    assertEquals(points(uninterrupted, "train_loss"), points(report, "train_loss"));
    assertEquals(series(uninterrupted, "train_loss"), series(report, "train_loss"), "the resumed run's loss curve is the uninterrupted run's");
    assertEquals(series(uninterrupted, "eval_loss"), series(report, "eval_loss"));
  }

  /** The number of points a series of the report draws. */
  private static int points(String html, String id) {
    Matcher m = Pattern.compile("data-series=\"" + id + "\" data-points=\"(\\d+)\"").matcher(html);
    assertTrue(m.find(), "no series " + id);
    return Integer.parseInt(m.group(1));
  }

  /** The SVG of a series, from its group to the group's end. */
  private static String series(String html, String id) {
    int from = html.indexOf("data-series=\"" + id + "\"");
    return html.substring(from, html.indexOf("</g>", from));
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
