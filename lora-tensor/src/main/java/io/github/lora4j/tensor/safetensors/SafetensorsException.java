package io.github.lora4j.tensor.safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A safetensors file or checkpoint index that cannot be read as such. The message names the file
 * and, where one is to blame, the tensor name or header key: {@code "model.safetensors: tensor
 * 'lm_head.weight': data_offsets [0, 24] point outside the file ..."}.
 */
public final class SafetensorsException extends IOException {

  /** The file at fault (not serialized: a Path is not serializable). */
  private final transient Path file;

  /** The tensor name or header key at fault, or null. */
  private final String key;

  /**
   * An exception whose message is {@code "file: 'key': problem"}.
   *
   * @param file the file at fault
   * @param key the tensor name or header key at fault, or null when the problem is the whole file
   * @param problem what is wrong, without the file or key
   */
  public SafetensorsException(Path file, String key, String problem) {
    super(message(file, key, problem));
    this.file = file;
    this.key = key;
  }

  SafetensorsException(Path file, String key, String problem, Throwable cause) {
    super(message(file, key, problem), cause);
    this.file = file;
    this.key = key;
  }

  private static String message(Path file, String key, String problem) {
    return key == null ? file + ": " + problem : file + ": '" + key + "': " + problem;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The tensor name or header key at fault, if one is. */
  public Optional<String> key() {
    return Optional.ofNullable(key);
  }
}
