package io.github.lora4j.tensor;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Temporary files and folders beside what they will become, for writes that finish with an atomic
 * rename (checkpoints, adapters, reports). Unlike {@link Files#createTempFile}, which makes files
 * that only their owner may read (0600 on POSIX), these get the permissions any new file there
 * gets (the umask's), so a renamed adapter or report is as readable as one written directly, as
 * transformers' files are.
 */
public final class TempSiblings {
  private TempSiblings() {}

  /** A new empty file {@code dir/<prefix><random><suffix>}. */
  public static Path file(Path dir, String prefix, String suffix) throws IOException {
    while (true) {
      try {
        return Files.createFile(dir.resolve(prefix + random() + suffix));
      } catch (FileAlreadyExistsException e) {
        // Another name then; 64 random bits make this all but impossible.
      }
    }
  }

  /** A new empty folder {@code dir/<prefix><random>}. */
  public static Path directory(Path dir, String prefix) throws IOException {
    while (true) {
      try {
        return Files.createDirectory(dir.resolve(prefix + random()));
      } catch (FileAlreadyExistsException e) {
        // Another name then, as for files.
      }
    }
  }

  private static String random() {
    return Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
  }
}
