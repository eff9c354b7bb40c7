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
      throw new IOException(path + ": not a readable Parquet file: " + e.getMessage(), e);
    }
    this.rows = file.rowReader();
  }

  @Override
  protected RawRecord read() {
    if (!rows.hasNext()) {
      return null;
    }
    rows.next();
    row++;
    return RawRecord.of(new Origin(source, row), struct(rows));
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
