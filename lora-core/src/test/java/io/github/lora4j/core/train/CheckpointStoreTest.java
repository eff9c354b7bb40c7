package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.core.train.CheckpointStore.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

  @TempDir Path dir;

  private TrainerState state = TrainerState.start(100, 1, 4, 1, 1, 1);

  /** Saves step {@code step} as the training loop will: the best is decided before the save. */
  private Checkpoint save(CheckpointStore store, long step, double evalLoss) throws IOException {
    state = state.atStep(step, step / 100.0, step * 10);
    if (state.improvesOnBest(evalLoss)) {
      state = state.withBest(evalLoss, step, store.dir(step).toString());
    }
    return store.save(state, d -> Files.writeString(d.resolve("adapter_model.safetensors"), "weights " + step));
  }

  private static List<Long> steps(CheckpointStore store) throws IOException {
    return store.list().stream().map(Checkpoint::step).toList();
  }

  private List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aSaveHoldsTheWritersFilesAndTheState() throws IOException {
    var store = CheckpointStore.open(dir.resolve("run"), 0);
    Checkpoint c = save(store, 5, 2.0);
    assertEquals(dir.resolve("run/checkpoint-5"), c.dir());
    assertEquals(List.of("adapter_model.safetensors", "trainer_state.json"), names(c.dir()));
    assertEquals("weights 5", Files.readString(c.dir().resolve("adapter_model.safetensors")));
    assertEquals(5, c.state().globalStep());
    assertEquals(List.of("checkpoint-5"), names(dir.resolve("run")), "no temporary directory is left");
    assertEquals(Optional.of(c), store.latest());
    assertEquals(Optional.of(c), store.best());
  }

  @Test
  void aWriterThatFailsLeavesNothing() throws IOException {
    var store = CheckpointStore.open(dir, 0);
    save(store, 1, 3.0);
    var e = assertThrows(IOException.class, () -> store.save(state.atStep(2, 0.02, 0), d -> {
      Files.writeString(d.resolve("adapter_model.safetensors"), "partial");
      throw new IOException("disk full");
    }));
    assertEquals("disk full", e.getMessage());
    assertEquals(List.of("checkpoint-1"), names(dir));
  }

  @Test
  void aProcessKilledMidSaveLeavesNoHalfCheckpointAndTheNextRunCleansUp() throws Exception {
    Path run = dir.resolve("run");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        CrashingSave.class.getName(), run.toString()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM finishes");
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(3, p.exitValue(), "the child halts mid-save: " + out);
    List<String> left = names(run);
    assertEquals(2, left.size(), "checkpoint-1 and the unfinished temporary directory: " + left);
    assertTrue(left.get(0).startsWith(".tmp-checkpoint-2-"), left.get(0));
    assertEquals("checkpoint-1", left.get(1));

    var store = CheckpointStore.open(run, 0);
    assertEquals(List.of("checkpoint-1"), names(run), "the leftover is removed when the store opens");
    assertEquals(List.of(1L), steps(store));
    assertEquals("one", Files.readString(store.latest().orElseThrow().dir().resolve("adapter_model.safetensors")));
  }

  @Test
  void anInterruptedDeletionIsFinishedOnOpen() throws IOException {
    Files.createDirectories(dir.resolve(".deleting-checkpoint-3-123/sub"));
    Files.writeString(dir.resolve(".deleting-checkpoint-3-123/sub/x"), "x");
    CheckpointStore.open(dir, 0);
    assertEquals(List.of(), names(dir));
  }

  @Test
  void totalLimitKeepsTheNewestAndTheBest() throws IOException {
    var store = CheckpointStore.open(dir, 2);
    double[] evalLoss = {3.0, 1.0, 2.0, 2.5, 2.7};
    for (int i = 0; i < evalLoss.length; i++) {
      save(store, (i + 1) * 10L, evalLoss[i]);
    }
    assertEquals(List.of(20L, 40L, 50L), steps(store), "checkpoint-20 is the best (eval_loss 1.0)");
    assertEquals(20, store.best().orElseThrow().step());
    assertEquals(50, store.latest().orElseThrow().step());
    save(store, 60, 0.5);
    assertEquals(List.of(50L, 60L), steps(store), "a new best replaces the old one, which is then just old");
  }

  @Test
  void limitOneKeepsTheLatestAndTheBest() throws IOException {
    var store = CheckpointStore.open(dir, 1);
    save(store, 1, 1.0);
    save(store, 2, 2.0);
    save(store, 3, 3.0);
    assertEquals(List.of(1L, 3L), steps(store));
  }

  @Test
  void limitZeroKeepsEveryCheckpoint() throws IOException {
    var store = CheckpointStore.open(dir, 0);
    for (long s = 1; s <= 4; s++) {
      save(store, s, 5 - s);
    }
    assertEquals(List.of(1L, 2L, 3L, 4L), steps(store));
    var e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.open(dir, -1));
    assertEquals("saveTotalLimit must be >= 0 (0 keeps every checkpoint): -1", e.getMessage());
  }

  @Test
  void savingAStepAgainReplacesIt() throws IOException {
    var store = CheckpointStore.open(dir, 0);
    save(store, 7, 1.0);
    store.save(state, d -> Files.writeString(d.resolve("adapter_model.safetensors"), "again"));
    assertEquals(List.of("checkpoint-7"), names(dir));
    assertEquals("again", Files.readString(dir.resolve("checkpoint-7/adapter_model.safetensors")));
  }

  @Test
  void aCheckpointWithoutStateIsNotListed() throws IOException {
    var store = CheckpointStore.open(dir, 0);
    save(store, 1, 1.0);
    Files.createDirectories(dir.resolve("checkpoint-9"));
    assertEquals(List.of(1L), steps(store));
  }

  @Test
  void resolveLatestAndPaths() throws IOException {
    var store = CheckpointStore.open(dir.resolve("run"), 0);
    var none = assertThrows(IllegalArgumentException.class, () -> store.resolve("latest"));
    assertEquals("resumeFrom \"latest\": no checkpoints yet in " + dir.resolve("run"), none.getMessage());
    save(store, 10, 2.0);
    Checkpoint c20 = save(store, 20, 1.0);
    assertEquals(c20, store.resolve("latest"));
    assertEquals(10, store.resolve(dir.resolve("run/checkpoint-10").toString()).step());
    assertEquals(c20.step(), CheckpointStore.resolvePath(dir.resolve("run")).step(), "a run directory: its newest");
  }

  @Test
  void resolveExplainsWhatIsWrongWithAPath() throws IOException {
    assertEquals("resumeFrom: no such directory: " + dir.resolve("nope"),
        assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolvePath(dir.resolve("nope")))
            .getMessage());
    Files.writeString(dir.resolve("file"), "x");
    assertEquals("resumeFrom: " + dir.resolve("file") + " is a file, not a checkpoint directory",
        assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolvePath(dir.resolve("file")))
            .getMessage());
    Files.createDirectories(dir.resolve("adapter"));
    assertEquals("resumeFrom: " + dir.resolve("adapter") + " is not a checkpoint directory (expected "
            + "checkpoint-<step>/ holding trainer_state.json, or a run directory holding such)",
        assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolvePath(dir.resolve("adapter")))
            .getMessage());
    Files.createDirectories(dir.resolve("checkpoint-3"));
    assertEquals("resumeFrom: " + dir.resolve("checkpoint-3") + " has no trainer_state.json; it is not a "
            + "complete checkpoint",
        assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolvePath(dir.resolve("checkpoint-3")))
            .getMessage());
    TrainerState.start(10, 1, 1, 1, 1, 1).atStep(4, 0, 0).write(dir.resolve("checkpoint-3"));
    assertEquals("resumeFrom: " + dir.resolve("checkpoint-3/trainer_state.json") + " says global_step 4, the "
            + "directory name says 3",
        assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolvePath(dir.resolve("checkpoint-3")))
            .getMessage());
  }

  @Test
  void latestAcrossRunsTakesTheNewestRunOfTheProjectThatHasACheckpoint() throws IOException {
    save(CheckpointStore.open(dir.resolve("pricer-2026-01-01_10.00.00"), 0), 30, 1.0);
    state = TrainerState.start(100, 1, 4, 1, 1, 1);
    save(CheckpointStore.open(dir.resolve("pricer-2026-01-02_10.00.00"), 0), 5, 1.0);
    state = TrainerState.start(100, 1, 4, 1, 1, 1);
    save(CheckpointStore.open(dir.resolve("pricer-2026-01-02_10.00.00-2"), 0), 7, 1.0);
    CheckpointStore.open(dir.resolve("pricer-2026-01-03_10.00.00"), 0); // started, crashed before a save
    state = TrainerState.start(100, 1, 4, 1, 1, 1);
    save(CheckpointStore.open(dir.resolve("pricer-big-2026-01-09_10.00.00"), 0), 9, 1.0); // another project

    Checkpoint c = CheckpointStore.resolve("latest", dir, "pricer");
    assertEquals(dir.resolve("pricer-2026-01-02_10.00.00-2/checkpoint-7"), c.dir());
    var e = assertThrows(IllegalArgumentException.class, () -> CheckpointStore.resolve("latest", dir, "other"));
    assertEquals("resumeFrom \"latest\": no checkpoints yet in any run of project \"other\" in " + dir
        + " (looked for other-<yyyy-MM-dd_HH.mm.ss>/checkpoint-<step>/)", e.getMessage());
  }
}
