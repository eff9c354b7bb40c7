package io.github.lora4j.data;

/**
 * Which side of a {@link DatasetReader}'s deterministic train/validation split to read.
 *
 * <p>A record's side depends only on the seed, the record's line (row) number and, when a
 * directory of shards is read, its file's name: it goes to validation when a hash of these, as a
 * fraction in [0, 1), is below the validation fraction. The split is therefore the same on every
 * pass, with either invalid-record policy, and when shards are added; it needs no second pass to
 * count the file first; and the validation share is the fraction in expectation, not exactly.
 */
public enum Split {
  /** Every record. */
  ALL,
  /** The records not held out. */
  TRAIN,
  /** The held-out records. */
  VALIDATION;

  /** True when a record at {@code line} belongs to this side. */
  boolean contains(long seed, double validationFraction, long line) {
    return switch (this) {
      case ALL -> true;
      case TRAIN -> unit(seed, line) >= validationFraction;
      case VALIDATION -> unit(seed, line) < validationFraction;
    };
  }

  /** SplitMix64's finaliser of (seed, line), as a double in [0, 1). */
  static double unit(long seed, long line) {
    long z = seed + 0x9E3779B97F4A7C15L * (line + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }
}
