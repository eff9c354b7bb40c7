package io.github.lora4j.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one record, as a JSON object whatever file it came from, into an {@link Example}, or
 * throws an {@link InvalidRecordException} that names the field.
 */
final class RecordDecoder {

  static final String PROMPT = "prompt";
  static final String COMPLETION = "completion";
  static final String MESSAGES = "messages";

  private final RecordFormat format;
  private final String textField;

  RecordDecoder(RecordFormat format, String textField) {
    this.format = format;
    this.textField = textField;
  }

  Example decode(JsonObject row, Origin origin) {
    RecordFormat f = format == RecordFormat.AUTO ? detect(row, origin) : format;
    return switch (f) {
      case TEXT -> {
        String text = string(row, textField, origin);
        if (text.isEmpty()) {
          throw new InvalidRecordException(origin, textField, "must not be empty");
        }
        yield new Example.Text(text, origin);
      }
      case PROMPT_COMPLETION -> {
        String prompt = string(row, PROMPT, origin);
        String completion = string(row, COMPLETION, origin);
        if (completion.isEmpty()) {
          throw new InvalidRecordException(origin, COMPLETION, "must not be empty");
        }
        yield new Example.PromptCompletion(prompt, completion, origin);
      }
      case CONVERSATIONAL -> new Example.Conversation(messages(row, origin), origin);
      case AUTO -> throw new AssertionError("detect never answers AUTO");
    };
  }

  private RecordFormat detect(JsonObject row, Origin origin) {
    if (present(row, MESSAGES)) {
      return RecordFormat.CONVERSATIONAL;
    }
    if (present(row, PROMPT) || present(row, COMPLETION)) {
      return RecordFormat.PROMPT_COMPLETION;
    }
    if (present(row, textField)) {
      return RecordFormat.TEXT;
    }
    throw new InvalidRecordException(
        origin, textField, "missing: the record has none of '" + textField + "', 'prompt'/'completion' or 'messages' (it has " + row.keySet() + ")");
  }

  private static boolean present(JsonObject row, String field) {
    return row.has(field) && !row.get(field).isJsonNull();
  }

  private static String string(JsonObject row, String field, Origin origin) {
    if (!present(row, field)) {
      throw new InvalidRecordException(origin, field, "missing");
    }
    return string(row.get(field), field, origin);
  }

  private static String string(JsonElement e, String field, Origin origin) {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new InvalidRecordException(origin, field, "must be a string, not " + kind(e));
    }
    return e.getAsString();
  }

  private static List<Message> messages(JsonObject row, Origin origin) {
    if (!present(row, MESSAGES)) {
      throw new InvalidRecordException(origin, MESSAGES, "missing");
    }
    JsonElement e = row.get(MESSAGES);
    if (!e.isJsonArray()) {
      throw new InvalidRecordException(origin, MESSAGES, "must be a list of {role, content} objects, not " + kind(e));
    }
    JsonArray array = e.getAsJsonArray();
    if (array.isEmpty()) {
      throw new InvalidRecordException(origin, MESSAGES, "must not be empty");
    }
    List<Message> messages = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      String at = MESSAGES + "[" + i + "]";
      JsonElement m = array.get(i);
      if (!m.isJsonObject()) {
        throw new InvalidRecordException(origin, at, "must be a {role, content} object, not " + kind(m));
      }
      JsonObject o = m.getAsJsonObject();
      String role = string(o, "role", origin, at + ".role");
      if (role.isBlank()) {
        throw new InvalidRecordException(origin, at + ".role", "must not be blank");
      }
      messages.add(new Message(role, string(o, "content", origin, at + ".content")));
    }
    return messages;
  }

  private static String string(JsonObject o, String key, Origin origin, String path) {
    if (!present(o, key)) {
      throw new InvalidRecordException(origin, path, "missing");
    }
    return string(o.get(key), path, origin);
  }

  private static String kind(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonArray()) {
      return "a list";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    var p = e.getAsJsonPrimitive();
    return p.isNumber() ? "a number" : p.isBoolean() ? "a boolean" : "a string";
  }
}
