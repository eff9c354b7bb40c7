package io.github.lora4j.core.model;

import java.io.IOException;
import java.util.Optional;

/**
 * A configuration file ({@code config.json}, {@code adapter_config.json}) that lora4j cannot use.
 * The message names the file and the key: {@code "config.json: 'num_key_value_heads': 32
 * attention heads are not divisible into 5 key/value heads"}.
 */
public final class InvalidConfigException extends IOException {

  /** The file or resource at fault. */
  private final String source;

  /** The key at fault, or null. */
  private final String key;

  /**
   * An exception whose message is {@code "source: 'key': problem"}.
   *
   * @param source the file (or bundled resource) at fault
   * @param key the key at fault, dotted for nested keys ({@code "rope_scaling.factor"}), or null
   * @param problem what is wrong, without the file or key
   */
  public InvalidConfigException(String source, String key, String problem) {
    super(key == null ? source + ": " + problem : source + ": '" + key + "': " + problem);
    this.source = source;
    this.key = key;
  }

  /** The file or resource at fault. */
  public String source() {
    return source;
  }

  /** The key at fault, if one is. */
  public Optional<String> key() {
    return Optional.ofNullable(key);
  }
}
