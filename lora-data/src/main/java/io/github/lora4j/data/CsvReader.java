package io.github.lora4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * CSV with a header row, as RFC 4180 quotes it: fields in double quotes may hold commas, newlines
 * and doubled quotes. Every value is a string, except that a {@code messages} column holds the
 * conversation as JSON. A record's line is the line it starts on. Line breaks inside a quoted
 * field become {@code \n}.
 */
final class CsvReader extends RecordReader {

  private final ByteLines lines;
  private final String source;
  private final StrictUtf8 utf8 = new StrictUtf8();
  private List<String> header;

  CsvReader(InputStream in, String source) {
    this.lines = new ByteLines(in);
    this.source = source;
  }

  @Override
  protected RawRecord read() throws IOException {
    if (header == null) {
      Parsed h = parseRecord();
      if (h == null) {
        return null;
      }
      if (h.problem != null) {
        throw new IOException(source + ":" + h.line + ": cannot read the CSV header: " + h.problem + (h.detail == null ? "" : " (" + h.detail + ")"));
      }
      header = h.fields;
      if (!header.isEmpty() && header.getFirst().startsWith("\uFEFF")) {
        header.set(0, header.getFirst().substring(1));
      }
      if (new HashSet<>(header).size() != header.size()) {
        throw new IOException(source + ":" + h.line + ": the CSV header names a column twice: " + header);
      }
    }
    Parsed p = parseRecord();
    if (p == null) {
      return null;
    }
    Origin origin = new Origin(source, p.line);
    if (p.problem != null) {
      return RawRecord.invalid(new InvalidRecordException(origin, null, p.problem, p.detail, null));
    }
    if (p.fields.size() == 1 && p.fields.getFirst().isBlank() && header.size() > 1) {
      return RawRecord.blank(origin);
    }
    if (p.fields.size() != header.size()) {
      return RawRecord.invalid(new InvalidRecordException(origin, null, "has " + p.fields.size() + " fields, the header has " + header.size()));
    }
    JsonObject row = new JsonObject();
    for (int i = 0; i < header.size(); i++) {
      String name = header.get(i);
      String value = p.fields.get(i);
      if (name.equals(RecordDecoder.MESSAGES)) {
        RawRecord parsed = JsonlReader.parse("{\"messages\":" + value + "}", origin);
        if (parsed.error() != null) {
          return RawRecord.invalid(new InvalidRecordException(origin, name, "is not a JSON list of {role, content} objects", parsed.error().detail(), null));
        }
        JsonElement messages = parsed.fields().get(RecordDecoder.MESSAGES);
        row.add(name, messages);
      } else {
        row.add(name, new JsonPrimitive(value));
      }
    }
    return RawRecord.of(origin, row);
  }

  private record Parsed(long line, List<String> fields, String problem, String detail) {}

  /** The next record's fields, reading as many lines as its quoted fields span; null at the end. */
  private Parsed parseRecord() throws IOException {
    if (!lines.next()) {
      return null;
    }
    long first = lines.number();
    String problem = null;
    String detail = null;
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false; // inside a quoted field
    boolean wasQuoted = false; // the current field was quoted and its closing quote seen
    while (true) {
      String text = utf8.decode(lines.bytes(), 0, lines.length());
      if (text == null && problem == null) {
        int bad = utf8.badOffset();
        problem = "not valid UTF-8";
        detail = String.format("byte 0x%02X at byte %d of line %d", lines.bytes()[bad] & 0xFF, bad + 1, lines.number());
      }
      if (text == null) {
        text = new String(lines.bytes(), 0, lines.length(), StandardCharsets.UTF_8);
      }
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (quoted) {
          if (c == '"') {
            if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
              field.append('"');
              i++;
            } else {
              quoted = false;
              wasQuoted = true;
            }
          } else {
            field.append(c);
          }
        } else if (c == ',') {
          fields.add(field.toString());
          field.setLength(0);
          wasQuoted = false;
        } else if (c == '"' && field.isEmpty() && !wasQuoted) {
          quoted = true;
        } else if (wasQuoted) {
          if (problem == null) {
            problem = "text after a closing quote";
            detail = "field " + (fields.size() + 1) + ", line " + lines.number();
          }
        } else {
          field.append(c);
        }
      }
      if (!quoted) {
        break;
      }
      if (!lines.next()) {
        problem = "a quoted field is never closed";
        detail = "it starts on line " + first;
        break;
      }
      field.append('\n');
    }
    fields.add(field.toString());
    return new Parsed(first, fields, problem, detail);
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
