package io.github.lora4j.data;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JSON Lines: one JSON object per line, UTF-8. Lines are split on raw bytes and each is decoded
 * strictly, so a bad byte or a malformed object spoils only its own line, which the policy can then
 * skip.
 */
final class JsonlReader extends RecordReader {

  private static final TypeAdapter<JsonElement> JSON = new Gson().getAdapter(JsonElement.class);
  private static final Pattern POSITION = Pattern.compile("line \\d+ column (\\d+)");

  private final ByteLines lines;
  private final String source;
  private final StrictUtf8 utf8 = new StrictUtf8();

  JsonlReader(InputStream in, String source) {
    this.lines = new ByteLines(in);
    this.source = source;
  }

  @Override
  protected RawRecord read() throws IOException {
    if (!lines.next()) {
      return null;
    }
    Origin origin = new Origin(source, lines.number());
    byte[] b = lines.bytes();
    int start = 0;
    int length = lines.length();
    if (lines.number() == 1 && length >= 3 && b[0] == (byte) 0xEF && b[1] == (byte) 0xBB && b[2] == (byte) 0xBF) {
      start = 3; // a UTF-8 byte order mark, which some editors write
    }
    String text = utf8.decode(b, start, length - start);
    if (text == null) {
      int bad = utf8.badOffset();
      return RawRecord.invalid(new InvalidRecordException(origin, null, "not valid UTF-8", String.format("byte 0x%02X at byte %d of the line", b[bad] & 0xFF, bad + 1), null));
    }
    if (text.isBlank()) {
      return RawRecord.blank(origin);
    }
    return parse(text, origin);
  }

  /** One JSON object, strictly: no comments, no unquoted names, nothing after the object. */
  static RawRecord parse(String text, Origin origin) {
    JsonElement e;
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      e = JSON.read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        return RawRecord.invalid(new InvalidRecordException(origin, null, "malformed JSON", "more text after the value", null));
      }
    } catch (JsonParseException | IOException | IllegalStateException ex) {
      return RawRecord.invalid(new InvalidRecordException(origin, null, "malformed JSON", where(ex.getMessage()), ex));
    }
    if (!e.isJsonObject()) {
      return RawRecord.invalid(new InvalidRecordException(origin, null, "not a JSON object"));
    }
    return RawRecord.of(origin, e.getAsJsonObject());
  }

  /** Gson's own words, without its advice to parse leniently, which is not ours to take. */
  private static String where(String gsonMessage) {
    if (gsonMessage == null) {
      return null;
    }
    String m = gsonMessage.lines().findFirst().orElse("");
    Matcher at = POSITION.matcher(m);
    String column = at.find() ? "column " + at.group(1) : null;
    String what = m.startsWith("Use JsonReader") ? null : m.replaceAll(" at line \\d+ column \\d+.*", "");
    if (what == null) {
      return column;
    }
    return column == null ? what : what + " at " + column;
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
