package io.github.lora4j.data;

import java.util.Map;
import java.util.Objects;

/**
 * What one pass over a dataset file found.
 *
 * @param source the file
 * @param split the side of the split that was read
 * @param records the records seen on this side, valid or not (blank lines excluded)
 * @param examples the records that became examples
 * @param skipped invalid records skipped under {@link InvalidRecordPolicy#SKIP_INVALID}, plus
 *     blank lines, by reason ({@code "'completion' must not be empty" -> 3}); empty when nothing
 *     was skipped
 */
public record ReadReport(String source, Split split, long records, long examples, Map<String, Long> skipped) {

  public ReadReport {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(split, "split");
    skipped = Map.copyOf(skipped);
  }

  /** The number of invalid records skipped, over all reasons (blank lines excluded). */
  public long skippedRecords() {
    return records - examples;
  }
}
