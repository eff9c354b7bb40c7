package io.github.lora4j.data;

/** What to do with a record that cannot be used for training. */
public enum InvalidRecordPolicy {
  /** Stop with an {@link InvalidRecordException} naming file, line and field. The default. */
  STRICT,
  /**
   * Skip the record, log it (the first few in full, then a summary) and count it, so that the
   * statistics say how many records were dropped and why.
   */
  SKIP_INVALID
}
