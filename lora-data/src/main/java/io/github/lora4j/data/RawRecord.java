package io.github.lora4j.data;

import com.google.gson.JsonObject;

/**
 * One record as a file format reads it, before it is decoded into an {@link Example}: its fields
 * as a JSON object, or the reason it could not be read at all (malformed JSON, not UTF-8). A blank
 * line is a record with neither, so that it is counted rather than silently dropped.
 */
record RawRecord(Origin origin, JsonObject fields, InvalidRecordException error) {

  static RawRecord of(Origin origin, JsonObject fields) {
    return new RawRecord(origin, fields, null);
  }

  static RawRecord invalid(InvalidRecordException error) {
    return new RawRecord(error.origin(), null, error);
  }

  static RawRecord blank(Origin origin) {
    return new RawRecord(origin, null, null);
  }

  boolean isBlank() {
    return fields == null && error == null;
  }
}
