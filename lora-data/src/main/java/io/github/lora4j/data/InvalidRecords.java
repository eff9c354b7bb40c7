package io.github.lora4j.data;

import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an {@link InvalidRecordPolicy} and keeps the count of what was skipped, by reason. The
 * first {@value #LOGGED_IN_FULL} skips are logged one by one with file and line; the rest only
 * count, and {@link #logSummary} says how many there were, so a large dirty file does not flood the
 * log but nothing disappears without a trace.
 */
final class InvalidRecords {

  private static final Logger LOG = LoggerFactory.getLogger(InvalidRecords.class);
  static final int LOGGED_IN_FULL = 20;

  private final InvalidRecordPolicy policy;
  private final String what;
  private final Map<String, Long> counts = new TreeMap<>();
  private long total;

  /**
   * @param what what is being read, for the log ("train.jsonl", "tokenization")
   */
  InvalidRecords(InvalidRecordPolicy policy, String what) {
    this.policy = policy;
    this.what = what;
  }

  /** Throws {@code e} under the strict policy; otherwise logs and counts it. */
  void reject(InvalidRecordException e) {
    if (policy == InvalidRecordPolicy.STRICT) {
      throw e;
    }
    total++;
    counts.merge(e.skipKey(), 1L, Long::sum);
    if (total <= LOGGED_IN_FULL) {
      LOG.warn("skipped invalid record: {}", e.getMessage());
    } else if (total == LOGGED_IN_FULL + 1) {
      LOG.warn("more invalid records in {}: counting them without logging each", what);
    }
  }

  /**
   * Counts something that is not a record (a blank line) under {@code reason}, whatever the
   * policy: it is no error, but it is not silently dropped either.
   */
  void ignore(Origin origin, String reason) {
    counts.merge(reason, 1L, Long::sum);
    LOG.debug("{}: ignored {}", origin, reason);
  }

  long total() {
    return total;
  }

  /** The skip counts by reason, sorted by reason. */
  Map<String, Long> counts() {
    return Map.copyOf(counts);
  }

  void logSummary() {
    if (total > 0) {
      LOG.warn("{}: skipped {} invalid record(s): {}", what, total, counts);
    }
  }
}
