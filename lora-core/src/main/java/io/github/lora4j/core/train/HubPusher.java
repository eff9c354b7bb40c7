package io.github.lora4j.core.train;

import io.github.lora4j.tensor.TempSiblings;
import io.github.lora4j.core.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes a run's adapter to the Hub on a background thread, as transformers' {@code push_to_hub}
 * does, so that training neither waits for the network nor stops because of it. Which saves are
 * pushed follows the {@link HubStrategy}; the final adapter always is.
 *
 * <p>One upload runs at a time. A save that comes while one runs waits, and a later save replaces
 * it: only the newest waiting checkpoint goes up (transformers skips a push while one is in
 * flight; keeping the newest instead means the Hub catches up as soon as the network does). The
 * files are staged first, as hard links (copies where the file system has none) in {@code
 * runDir/.hub-upload-*}, so that the checkpoint may be rotated away while its upload runs; a staging
 * folder is removed when its upload is done, and those a crashed run left when the next one starts.
 *
 * <p>Nothing here throws into training: a failure to stage or to upload becomes a failed {@link
 * HubUploads.Upload}, logged, and {@link #finish} returns them all. When training fails instead of
 * finishing, nobody calls {@code finish}: the uploads already queued still run (the last good
 * checkpoint reaches the Hub), and the worker thread ends once idle.
 */
final class HubPusher {

  static final String STAGING_PREFIX = ".hub-upload-";

  private static final Logger LOG = LoggerFactory.getLogger(HubPusher.class);

  private record Job(String label, Path staging, String summary) {}

  private final HubUploader uploader;
  private final HubStrategy strategy;
  private final Path runDir;
  // At most one thread, a daemon that ends when idle: a run that fails leaves nothing to shut down.
  private final ExecutorService worker =
      new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), Thread.ofVirtual().name("hub-upload-", 0).factory());
  private final AtomicReference<Job> waiting = new AtomicReference<>();
  private final List<HubUploads.Upload> uploads = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger superseded = new AtomicInteger();
  private final AtomicInteger outstanding = new AtomicInteger();
  private volatile boolean copyLogged;

  HubPusher(HubUploader uploader, HubStrategy strategy, Path runDir) throws IOException {
    this.uploader = uploader;
    this.strategy = strategy;
    this.runDir = runDir;
    removeLeftovers();
  }

  /** A pusher for {@code settings} in {@code runDir}. */
  static HubPusher start(HubSettings settings, Path runDir) throws IOException {
    LOG.info("pushing to {} on the Hub ({}, hub strategy {})", settings.repoId(), settings.privateRepo() ? "private" : "public", settings.strategy());
    return new HubPusher(HubUploader.builder(settings).build(), settings.strategy(), runDir);
  }

  /**
   * Queues the upload of a checkpoint just saved: its adapter and the model card at the top of the
   * repository and, with {@link HubStrategy#CHECKPOINT}, every file of the checkpoint in {@code
   * last-checkpoint/}. Does nothing with {@link HubStrategy#END}.
   */
  void checkpointSaved(long step, Path checkpointDir, String modelCard) {
    if (strategy == HubStrategy.END) {
      return;
    }
    String label = checkpointDir.getFileName().toString();
    try {
      List<HubUploader.RepoFile> files = new ArrayList<>(adapterFiles(checkpointDir));
      if (strategy == HubStrategy.CHECKPOINT) {
        files.addAll(HubUploader.list(checkpointDir, HubStrategy.LAST_CHECKPOINT + "/"));
      }
      submit(new Job(label, stage(label, files, modelCard), "Training in progress, step " + step));
    } catch (IOException | RuntimeException e) {
      failedToStage(label, e);
    }
  }

  /**
   * Queues the upload of the final adapter with the model card and, with {@link
   * HubStrategy#CHECKPOINT}, the last checkpoint in {@code last-checkpoint/} (the final upload may
   * replace that checkpoint's own while it waits).
   */
  void trainingEnded(Path adapterDir, Optional<Path> lastCheckpoint, String modelCard) {
    try {
      List<HubUploader.RepoFile> files = new ArrayList<>(adapterFiles(adapterDir));
      if (strategy == HubStrategy.CHECKPOINT && lastCheckpoint.isPresent()) {
        files.addAll(HubUploader.list(lastCheckpoint.get(), HubStrategy.LAST_CHECKPOINT + "/"));
      }
      submit(new Job(HubUploads.FINAL, stage(HubUploads.FINAL, files, modelCard), "End of training"));
    } catch (IOException | RuntimeException e) {
      failedToStage(HubUploads.FINAL, e);
    }
  }

  /**
   * Waits up to {@code wait} for the queued uploads and returns what they did; uploads still
   * running after that go on in the background (the worker is a daemon thread).
   */
  HubUploads finish(Duration wait) {
    worker.shutdown();
    try {
      worker.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    HubUploads result;
    synchronized (uploads) {
      result = new HubUploads(uploader.repoId(), uploads, superseded.get(), outstanding.get());
    }
    if (result.unfinished() > 0) {
      LOG.warn("hub: {} upload(s) to {} still running after waiting {}; they go on in the background while the JVM runs", result.unfinished(),
          result.repoId(), wait);
    }
    int ok = result.uploads().size() - result.failures().size();
    String line = String.format("hub: %d of %d upload(s) to %s made%s%s", ok, result.uploads().size(), result.repoId(),
        result.superseded() > 0 ? ", " + result.superseded() + " checkpoint(s) superseded by newer saves" : "",
        result.failures().isEmpty() ? "" : "; failed: " + String.join("; ", result.failures().stream().map(u -> u.label() + " (" + u.error().orElse("?") + ")").toList()));
    if (result.failures().isEmpty()) {
      LOG.info(line);
    } else {
      LOG.warn(line);
    }
    return result;
  }

  private void submit(Job job) {
    outstanding.incrementAndGet();
    Job replaced = waiting.getAndSet(job);
    if (replaced != null) {
      outstanding.decrementAndGet();
      superseded.incrementAndGet();
      discard(replaced);
      LOG.info("hub: {} not uploaded: {} replaced it while an earlier upload was running", replaced.label(), job.label());
    }
    worker.execute(this::runWaiting);
  }

  private void runWaiting() {
    Job job = waiting.getAndSet(null);
    if (job == null) {
      return; // a later task took it, or it was dropped
    }
    try {
      HubUploader.Result r = uploader.upload(job.staging(), job.summary());
      uploads.add(new HubUploads.Upload(job.label(), r.ok(), r.attempts(), r.files(), Optional.ofNullable(r.commitUrl()), Optional.ofNullable(r.error())));
    } catch (RuntimeException e) {
      // upload() reports its own failures; this is a bug, still not one to end training for.
      LOG.warn("hub: the upload of {} failed unexpectedly", job.label(), e);
      uploads.add(new HubUploads.Upload(job.label(), false, 0, 0, Optional.empty(), Optional.of(e.toString())));
    } finally {
      discard(job);
      outstanding.decrementAndGet();
    }
  }

  private void failedToStage(String label, Exception e) {
    LOG.warn("hub: cannot stage {} for upload: {}; training goes on", label, e.toString());
    uploads.add(new HubUploads.Upload(label, false, 0, 0, Optional.empty(), Optional.of("cannot stage the files: " + e)));
  }

  private static List<HubUploader.RepoFile> adapterFiles(Path dir) {
    return List.of(new HubUploader.RepoFile(LoraConfig.ADAPTER_CONFIG_FILE, dir.resolve(LoraConfig.ADAPTER_CONFIG_FILE)),
        new HubUploader.RepoFile(LoraConfig.ADAPTER_WEIGHTS_FILE, dir.resolve(LoraConfig.ADAPTER_WEIGHTS_FILE)));
  }

  private Path stage(String label, List<HubUploader.RepoFile> files, String modelCard) throws IOException {
    Path dir = TempSiblings.directory(runDir, STAGING_PREFIX + label + "-");
    try {
      for (HubUploader.RepoFile f : files) {
        Path target = dir.resolve(f.path());
        Files.createDirectories(target.getParent());
        try {
          Files.createLink(target, f.source());
        } catch (FileSystemException | UnsupportedOperationException e) {
          // No hard links here (another file system, or none at all: createLink's documented
          // UnsupportedOperationException); a copy stages the same bytes.
          if (!Files.exists(f.source())) {
            throw e;
          }
          Files.copy(f.source(), target);
          if (!copyLogged) {
            copyLogged = true;
            LOG.info("hub: {} cannot hard-link files ({}); staging uploads as copies", runDir, e.toString());
          }
        }
      }
      Files.writeString(dir.resolve("README.md"), modelCard);
    } catch (IOException | RuntimeException e) {
      CheckpointStore.deleteTree(dir);
      throw e;
    }
    return dir;
  }

  private void discard(Job job) {
    try {
      CheckpointStore.deleteTree(job.staging());
    } catch (IOException e) {
      LOG.warn("hub: cannot remove the staging folder {}: {}", job.staging(), e.toString());
    }
  }

  private void removeLeftovers() throws IOException {
    if (!Files.isDirectory(runDir)) {
      return;
    }
    List<Path> leftovers;
    try (Stream<Path> s = Files.list(runDir)) {
      leftovers = s.filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX)).sorted().toList();
    }
    for (Path p : leftovers) {
      CheckpointStore.deleteTree(p);
      LOG.info("removed {}: the staging folder of an upload that an earlier run left unfinished", p);
    }
  }
}
