package io.github.lora4j.core.train;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a run's pushes to the Hugging Face Hub did ({@link TrainingResult#hub()}). Uploads run in
 * the background and never stop training; this is where their failures show.
 *
 * @param repoId the repository pushed to
 * @param uploads every upload that ran, in the order they ran
 * @param superseded checkpoints never uploaded because a newer save replaced them while an earlier
 *     upload was still running (only the newest waiting checkpoint goes up)
 * @param unfinished uploads still running or waiting when {@code fit()} stopped waiting for them
 *     ({@link HubSettings#waitAtEnd()}); they go on in the background while the JVM lives
 */
public record HubUploads(String repoId, List<Upload> uploads, int superseded, int unfinished) {

  /** The label of the upload of the final adapter. */
  public static final String FINAL = "final";

  /**
   * One upload: a commit of the adapter (and, with {@link HubStrategy#CHECKPOINT}, the checkpoint).
   *
   * @param label {@code "checkpoint-<step>"} or {@value HubUploads#FINAL}
   * @param ok whether the commit was made
   * @param attempts attempts it took, retries included
   * @param files files in the commit
   * @param commitUrl the commit on the Hub, when made
   * @param error why it failed, when it did (the token never appears in it)
   */
  public record Upload(String label, boolean ok, int attempts, int files, Optional<String> commitUrl, Optional<String> error) {
    public Upload {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(commitUrl, "commitUrl");
      Objects.requireNonNull(error, "error");
    }
  }

  public HubUploads {
    Objects.requireNonNull(repoId, "repoId");
    uploads = List.copyOf(uploads);
  }

  /** Whether the final adapter reached the Hub. */
  public boolean finalUploaded() {
    return uploads.stream().anyMatch(u -> u.label().equals(FINAL) && u.ok());
  }

  /** The uploads that failed after their retries. */
  public List<Upload> failures() {
    return uploads.stream().filter(u -> !u.ok()).toList();
  }
}
