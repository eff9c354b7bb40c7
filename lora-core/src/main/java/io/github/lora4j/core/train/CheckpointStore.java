package io.github.lora4j.core.train;

import io.github.lora4j.tensor.TempSiblings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints of one run, {@code runDir/checkpoint-<step>/}. A checkpoint is written into a
 * temporary directory beside them and renamed into place once complete, so a crash leaves either
 * the whole checkpoint or none; {@code trainer_state.json} is written last and marks a complete
 * one. A temporary directory left by a crash is removed, with a log line, when the store opens.
 *
 * <p>With a {@code saveTotalLimit} of K, each save keeps the newest K checkpoints plus the best
 * (the state's {@code best_model_checkpoint}), as transformers' {@code save_total_limit} with
 * {@code load_best_model_at_end} does.
 */
final class CheckpointStore {

  static final String PREFIX = "checkpoint-";
  static final String LATEST = "latest";

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
  private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,18})");
  private static final String TMP_PREFIX = ".tmp-checkpoint-";
  private static final String DELETING_PREFIX = ".deleting-checkpoint-";

  /** Writes a checkpoint's files (the adapter, optimizer and RNG state, ...) into {@code dir}. */
  @FunctionalInterface
  interface Writer {
    void write(Path dir) throws IOException;
  }

  /** A complete checkpoint: its step and directory. */
  record Checkpoint(long step, Path dir) {
    /** Its {@code trainer_state.json}. */
    TrainerState state() throws IOException {
      return TrainerState.read(dir);
    }
  }

  private final Path runDir;
  private final int saveTotalLimit;

  private CheckpointStore(Path runDir, int saveTotalLimit) {
    this.runDir = runDir;
    this.saveTotalLimit = saveTotalLimit;
  }

  /**
   * The store of {@code runDir}, created if missing, with unfinished checkpoints of an earlier
   * crash removed.
   *
   * @param saveTotalLimit the newest checkpoints kept besides the best; 0 keeps every checkpoint
   */
  static CheckpointStore open(Path runDir, int saveTotalLimit) throws IOException {
    if (saveTotalLimit < 0) {
      throw new IllegalArgumentException("saveTotalLimit must be >= 0 (0 keeps every checkpoint): " + saveTotalLimit);
    }
    Files.createDirectories(runDir);
    var store = new CheckpointStore(runDir, saveTotalLimit);
    store.removeLeftovers();
    return store;
  }

  Path runDir() {
    return runDir;
  }

  /** Where the checkpoint of {@code step} is, or will be. */
  Path dir(long step) {
    return runDir.resolve(PREFIX + step);
  }

  /**
   * Saves the checkpoint of {@code state.globalStep()}: {@code writer}'s files, then {@code
   * trainer_state.json}, flushed to disk and renamed into place in one step; then deletes the
   * checkpoints {@code saveTotalLimit} no longer keeps. A checkpoint of the same step already there
   * (a run resumed from an earlier one) is replaced.
   */
  Checkpoint save(TrainerState state, Writer writer) throws IOException {
    long step = state.globalStep();
    Path tmp = TempSiblings.directory(runDir, TMP_PREFIX + step + "-");
    Path target = dir(step);
    Path replaced = null;
    try {
      writer.write(tmp);
      state.write(tmp);
      syncTree(tmp);
      if (Files.exists(target)) {
        replaced = moveAside(target);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      syncDir(runDir);
    } catch (IOException | RuntimeException | Error e) {
      try {
        deleteTree(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    if (replaced != null) {
      deleteTree(replaced);
    }
    rotate(state);
    return new Checkpoint(step, target);
  }

  /** The complete checkpoints, oldest first. */
  List<Checkpoint> list() throws IOException {
    return list(runDir);
  }

  /** The checkpoint of the highest step. */
  Optional<Checkpoint> latest() throws IOException {
    List<Checkpoint> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
  }

  /** The best checkpoint, as the latest checkpoint's {@code trainer_state.json} names it. */
  Optional<Checkpoint> best() throws IOException {
    Optional<Checkpoint> latest = latest();
    if (latest.isEmpty()) {
      return Optional.empty();
    }
    String best = latest.get().state().bestModelCheckpoint();
    return best == null ? Optional.empty() : byName(list(), best);
  }

  /**
   * The checkpoint to resume from: {@code "latest"}, the newest of this run, or a path (see {@link
   * #resolvePath}).
   *
   * @throws IllegalArgumentException when there is none, saying why
   */
  Checkpoint resolve(String spec) throws IOException {
    if (spec.equals(LATEST)) {
      return latest().orElseThrow(() -> new IllegalArgumentException(
          "resumeFrom \"latest\": no checkpoints yet in " + runDir));
    }
    return resolvePath(Path.of(spec));
  }

  /**
   * The checkpoint to resume from when the run name is generated: {@code "latest"} is the newest
   * checkpoint of the newest run of {@code project} in {@code outputDir} that has one; anything else
   * is a path (see {@link #resolvePath}). The resumed run continues in the checkpoint's run
   * directory, its parent.
   */
  static Checkpoint resolve(String spec, Path outputDir, String project) throws IOException {
    if (!spec.equals(LATEST)) {
      return resolvePath(Path.of(spec));
    }
    Pattern runName = Pattern.compile(Pattern.quote(RunNames.checkProject(project))
        + "-(\\d{4}-\\d{2}-\\d{2}_\\d{2}\\.\\d{2}\\.\\d{2})(?:-(\\d{1,9}))?");
    record Run(Path dir, String time, int n) {}
    if (Files.isDirectory(outputDir)) {
      var runs = new ArrayList<Run>();
      try (Stream<Path> s = Files.list(outputDir)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          Matcher m = runName.matcher(p.getFileName().toString());
          if (m.matches() && Files.isDirectory(p)) {
            runs.add(new Run(p, m.group(1), m.group(2) == null ? 1 : Integer.parseInt(m.group(2))));
          }
        }
      }
      // Newest first: by start time, then by the suffix of a second run in the same second.
      runs.sort(Comparator.comparing(Run::time).thenComparingInt(Run::n).reversed());
      for (Run run : runs) {
        List<Checkpoint> checkpoints = list(run.dir());
        if (!checkpoints.isEmpty()) {
          return checkpoints.getLast();
        }
      }
    }
    throw new IllegalArgumentException("resumeFrom \"latest\": no checkpoints yet in any run of project \""
        + project + "\" in " + outputDir + " (looked for " + project + "-<yyyy-MM-dd_HH.mm.ss>/" + PREFIX
        + "<step>/)");
  }

  /**
   * A checkpoint directory given by path; a run directory stands for its newest checkpoint.
   *
   * @throws IllegalArgumentException when the path is missing, a file, not a checkpoint, an
   *     incomplete one, or one whose state names another step
   */
  static Checkpoint resolvePath(Path path) throws IOException {
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("resumeFrom: no such directory: " + path);
    }
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException("resumeFrom: " + path + " is a file, not a checkpoint directory");
    }
    Path name = path.toAbsolutePath().normalize().getFileName();
    Matcher m = NAME.matcher(name == null ? "" : name.toString());
    if (!m.matches()) {
      List<Checkpoint> inside = list(path);
      if (!inside.isEmpty()) {
        return inside.getLast();
      }
      throw new IllegalArgumentException("resumeFrom: " + path + " is not a checkpoint directory (expected "
          + PREFIX + "<step>/ holding " + TrainerState.FILE_NAME + ", or a run directory holding such)");
    }
    if (!Files.isRegularFile(path.resolve(TrainerState.FILE_NAME))) {
      throw new IllegalArgumentException("resumeFrom: " + path + " has no " + TrainerState.FILE_NAME
          + "; it is not a complete checkpoint");
    }
    long step = Long.parseLong(m.group(1));
    long stateStep = TrainerState.read(path).globalStep();
    if (stateStep != step) {
      throw new IllegalArgumentException("resumeFrom: " + path.resolve(TrainerState.FILE_NAME) + " says global_step "
          + stateStep + ", the directory name says " + step);
    }
    return new Checkpoint(step, path);
  }

  // ---- internals ----

  private static List<Checkpoint> list(Path dir) throws IOException {
    var out = new ArrayList<Checkpoint>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (m.matches() && Files.isRegularFile(p.resolve(TrainerState.FILE_NAME))) {
          out.add(new Checkpoint(Long.parseLong(m.group(1)), p));
        }
      }
    }
    out.sort(Comparator.comparingLong(Checkpoint::step));
    return out;
  }

  private static Optional<Checkpoint> byName(List<Checkpoint> checkpoints, String bestModelCheckpoint) {
    // transformers records the path as the run saw it; the directory name is what survives a move.
    Path name = Path.of(bestModelCheckpoint).getFileName();
    return checkpoints.stream().filter(c -> c.dir().getFileName().equals(name)).findFirst();
  }

  private void rotate(TrainerState state) throws IOException {
    if (saveTotalLimit == 0) {
      return;
    }
    List<Checkpoint> all = list();
    Set<Path> keep = new HashSet<>();
    all.subList(Math.max(0, all.size() - saveTotalLimit), all.size()).forEach(c -> keep.add(c.dir()));
    if (state.bestModelCheckpoint() != null) {
      byName(all, state.bestModelCheckpoint()).ifPresent(c -> keep.add(c.dir()));
    }
    for (Checkpoint c : all) {
      if (!keep.contains(c.dir())) {
        deleteTree(moveAside(c.dir()));
        LOG.info("deleted {} (saveTotalLimit {} keeps the newest {} and the best)", c.dir().getFileName(),
            saveTotalLimit, saveTotalLimit);
      }
    }
  }

  /** Renames a checkpoint out of the way first, so that a crash while deleting leaves no half checkpoint. */
  private Path moveAside(Path checkpoint) throws IOException {
    Path aside = TempSiblings.directory(runDir, DELETING_PREFIX + checkpoint.getFileName() + "-");
    Files.delete(aside);
    Files.move(checkpoint, aside, StandardCopyOption.ATOMIC_MOVE);
    return aside;
  }

  private void removeLeftovers() throws IOException {
    List<Path> leftovers;
    try (Stream<Path> s = Files.list(runDir)) {
      leftovers = s.filter(p -> {
        String n = p.getFileName().toString();
        return n.startsWith(TMP_PREFIX) || n.startsWith(DELETING_PREFIX);
      }).sorted().toList();
    }
    for (Path p : leftovers) {
      deleteTree(p);
      LOG.warn("removed {}: {}", p, p.getFileName().toString().startsWith(TMP_PREFIX)
          ? "an unfinished checkpoint of a run that stopped while saving"
          : "a checkpoint whose deletion was interrupted");
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** Forces every file of the tree to disk, so the rename never publishes data still in the page cache. */
  private static void syncTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.forEach(p -> {
        try {
          if (Files.isRegularFile(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
              ch.force(true);
            }
          } else if (Files.isDirectory(p)) {
            syncDir(p);
          }
        } catch (NoSuchFileException e) {
          // removed by the writer meanwhile: nothing to flush
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static void syncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open a directory for syncing; the rename is still atomic there.
    }
  }
}
