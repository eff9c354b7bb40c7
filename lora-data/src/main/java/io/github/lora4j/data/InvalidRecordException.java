package io.github.lora4j.data;

import java.util.Objects;

/**
 * A record that cannot be used for training: malformed JSON, a missing or mistyped field, bytes
 * that are not UTF-8, an empty completion. The message names the file, the line and, where there
 * is one, the field: {@code train.jsonl:17: field 'completion': must not be empty}.
 *
 * <p>With {@link InvalidRecordPolicy#STRICT} the first such record stops the read with this
 * exception; with {@link InvalidRecordPolicy#SKIP_INVALID} the record is skipped, logged and
 * counted under {@link #reason()}.
 */
public final class InvalidRecordException extends RuntimeException {

  private final Origin origin;
  private final String field;
  private final String reason;
  private final String detail;

  /**
   * @param origin the file and line of the record
   * @param field the offending field ({@code messages[2].content}), or null when the record as a
   *     whole is bad (malformed JSON, not UTF-8)
   * @param reason what is wrong, in a few words that also serve as the skip counter's key
   */
  public InvalidRecordException(Origin origin, String field, String reason) {
    this(origin, field, reason, null, null);
  }

  /**
   * @param detail where exactly, or what the parser said ({@code "byte 0xE9 at byte 14 of the
   *     line"}); part of the message but not of the {@link #skipKey}, so that skips of one kind
   *     count together; may be null
   */
  public InvalidRecordException(Origin origin, String field, String reason, String detail, Throwable cause) {
    super(format(origin, field, reason, detail), cause);
    this.origin = Objects.requireNonNull(origin, "origin");
    this.field = field;
    this.reason = Objects.requireNonNull(reason, "reason");
    this.detail = detail;
  }

  public Origin origin() {
    return origin;
  }

  /** The offending field, or null when the whole record is bad. */
  public String field() {
    return field;
  }

  /** What is wrong, without file or line. */
  public String reason() {
    return reason;
  }

  /** Where exactly, or what the parser said; null when there is nothing to add. */
  public String detail() {
    return detail;
  }

  /** The key under which a skipped record is counted: the field (if any) and the reason. */
  public String skipKey() {
    return field == null ? reason : "'" + field + "' " + reason;
  }

  private static String format(Origin origin, String field, String reason, String detail) {
    return origin + ": " + (field == null ? "" : "field '" + field + "': ") + reason + (detail == null ? "" : " (" + detail + ")");
  }
}
