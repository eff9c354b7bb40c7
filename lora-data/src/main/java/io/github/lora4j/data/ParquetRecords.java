package io.github.lora4j.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.hardwood.InputFile;
import dev.hardwood.reader.ParquetFileReader;
import dev.hardwood.reader.RowReader;
import dev.hardwood.row.PqList;
import dev.hardwood.row.PqMap;
import dev.hardwood.row.StructAccessor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Parquet rows through Hardwood, a Parquet reader without Hadoop. Each row becomes a JSON object
 * (strings, numbers, booleans, lists, structs as objects, maps as objects with string keys), so
 * that Hugging Face's {@code messages: list<struct<role, content>>} decodes like its JSON Lines
 * twin. A record's "line" is its 1-based row number across all row groups.
 */
final class ParquetRecords extends RecordReader {

  private final String source;
  private final ParquetFileReader file;
  private final RowReader rows;
  private long row;

  ParquetRecords(Path path) throws IOException {
    this.source = path.toString();
    try {
      this.file = ParquetFileReader.open(InputFile.of(path));
    } catch (IOException | RuntimeException e) {
      throw new IOException(path + ": not a readable Parquet file: " + messages(e), e);
    }
    try {
      this.rows = file.rowReader();
    } catch (RuntimeException e) {
      file.close();
      throw new IOException(path + ": cannot read rows: " + messages(e), e);
    }
  }

  /** The messages of an exception and its causes: Hardwood names a missing codec library deep down. */
  private static String messages(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (m != null && out.indexOf(m) < 0) {
        out.append(out.isEmpty() ? "" : ": ").append(m);
      }
    }
    return out.toString();
  }

  @Override
  protected RawRecord read() throws IOException {
    try {
      if (!rows.hasNext()) {
        return null;
      }
      rows.next();
      row++;
      return RawRecord.of(new Origin(source, row), struct(rows));
    } catch (RuntimeException e) {
      // A damaged file, or a codec whose library is not on the class path (Hardwood names it):
      // the file cannot be read on, so this is an I/O error, not a skippable record.
      throw new IOException(source + ": cannot read row " + (row + 1) + ": " + messages(e), e);
    }
  }

  private static JsonObject struct(StructAccessor s) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < s.getFieldCount(); i++) {
      o.add(s.getFieldName(i), s.isNull(i) ? JsonNull.INSTANCE : json(s.getValue(i)));
    }
    return o;
  }

  private static JsonElement json(Object v) {
    return switch (v) {
      case null -> JsonNull.INSTANCE;
      case String s -> new JsonPrimitive(s);
      case Number n -> new JsonPrimitive(n);
      case Boolean b -> new JsonPrimitive(b);
      case StructAccessor s -> struct(s);
      case PqList list -> {
        JsonArray a = new JsonArray(list.size());
        for (Object e : list.values()) {
          a.add(json(e));
        }
        yield a;
      }
      case PqMap map -> {
        JsonObject o = new JsonObject();
        for (var e : map.getEntries()) {
          o.add(String.valueOf(e.getKey()), json(e.getValue()));
        }
        yield o;
      }
      // Binary without a string annotation: base64, so it is visibly not text.
      case byte[] bytes -> new JsonPrimitive(Base64.getEncoder().encodeToString(bytes));
      default -> new JsonPrimitive(v.toString());
    };
  }

  @Override
  public void close() throws IOException {
    try {
      rows.close();
    } finally {
      file.close();
    }
  }
}
