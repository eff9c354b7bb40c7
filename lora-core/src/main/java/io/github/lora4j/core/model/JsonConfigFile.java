package io.github.lora4j.core.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A JSON object read from a configuration file, with typed getters whose every error is an {@link
 * InvalidConfigException} naming the file and the key. A key holding JSON {@code null} counts as
 * absent, as it does for transformers and PEFT. Nested objects are read through {@link #object},
 * whose errors name the dotted key ({@code "rope_scaling.factor"}).
 */
public final class JsonConfigFile {

  /** Larger config files than this are refused unread; real ones are a few kilobytes. */
  private static final long MAX_BYTES = 16L << 20;

  private final String source;
  private final String prefix;
  private final JsonObject object;

  private JsonConfigFile(String source, String prefix, JsonObject object) {
    this.source = source;
    this.prefix = prefix;
    this.object = object;
  }

  /**
   * Reads and parses a file that must hold one JSON object.
   *
   * @throws InvalidConfigException naming the file when it is not a JSON object
   * @throws IOException when it cannot be read
   */
  public static JsonConfigFile read(Path file) throws IOException {
    if (Files.size(file) > MAX_BYTES) {
      throw new InvalidConfigException(file.toString(), null, "is " + Files.size(file) + " bytes; a config file "
          + "of more than " + MAX_BYTES + " is not one");
    }
    try (Reader r = Files.newBufferedReader(file)) {
      return parse(r, file.toString());
    }
  }

  /**
   * Parses JSON text that must be one object; {@code source} names it in errors.
   *
   * @throws InvalidConfigException naming the source when it is not a JSON object
   */
  public static JsonConfigFile parse(String json, String source) throws InvalidConfigException {
    try {
      return parse(new StringReader(json), source);
    } catch (InvalidConfigException e) {
      throw e;
    } catch (IOException e) {
      throw new AssertionError("reading a string", e);
    }
  }

  private static JsonConfigFile parse(Reader reader, String source) throws IOException {
    JsonElement root;
    try {
      JsonReader json = new JsonReader(reader);
      // Python's json module writes NaN and Infinity, which strict JSON lacks.
      json.setStrictness(Strictness.LENIENT);
      root = JsonParser.parseReader(json);
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidConfigException(source, null, "is not valid JSON: " + e.getMessage());
    }
    if (!root.isJsonObject()) {
      throw new InvalidConfigException(source, null, "must hold a JSON object, not " + kind(root));
    }
    return new JsonConfigFile(source, "", root.getAsJsonObject());
  }

  /** The file or resource this was read from. */
  public String source() {
    return source;
  }

  /** The keys present, in file order. */
  public Set<String> keys() {
    return object.keySet();
  }

  /** Whether {@code key} is present with a value other than null. */
  public boolean has(String key) {
    JsonElement e = object.get(key);
    return e != null && !e.isJsonNull();
  }

  /** The raw value of {@code key}, empty when absent or null. */
  public Optional<JsonElement> get(String key) {
    return has(key) ? Optional.of(object.get(key)) : Optional.empty();
  }

  /**
   * An error about {@code key} of this object, qualified for nested objects; a null key blames
   * this object itself (its own key when nested, else the whole file).
   */
  public InvalidConfigException error(String key, String problem) {
    String qualified = key != null ? prefix + key : prefix.isEmpty() ? null : prefix.substring(0, prefix.length() - 1);
    return new InvalidConfigException(source, qualified, problem);
  }

  /** A required string. */
  public String string(String key) throws InvalidConfigException {
    return optionalString(key).orElseThrow(() -> missing(key, "a string"));
  }

  /** An optional string. */
  public Optional<String> optionalString(String key) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    if (e == null) {
      return Optional.empty();
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw error(key, "must be a string, not " + kind(e));
    }
    return Optional.of(e.getAsString());
  }

  /** A required integer that fits in an int. */
  public int integer(String key) throws InvalidConfigException {
    OptionalInt v = optionalInteger(key);
    if (v.isEmpty()) {
      throw missing(key, "an integer");
    }
    return v.getAsInt();
  }

  /** An optional integer that fits in an int; 4096.0 is refused, as it is not an integer in JSON. */
  public OptionalInt optionalInteger(String key) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    return e == null ? OptionalInt.empty() : OptionalInt.of(asInt(key, e));
  }

  /** A required number. */
  public double number(String key) throws InvalidConfigException {
    OptionalDouble v = optionalNumber(key);
    if (v.isEmpty()) {
      throw missing(key, "a number");
    }
    return v.getAsDouble();
  }

  /** An optional number (integer or not). */
  public OptionalDouble optionalNumber(String key) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    if (e == null) {
      return OptionalDouble.empty();
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw error(key, "must be a number, not " + kind(e));
    }
    return OptionalDouble.of(e.getAsDouble());
  }

  /** An optional boolean, {@code otherwise} when absent. */
  public boolean bool(String key, boolean otherwise) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    if (e == null) {
      return otherwise;
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw error(key, "must be true or false, not " + kind(e) + " " + e);
    }
    return e.getAsBoolean();
  }

  /** An integer or a list of integers (as {@code eos_token_id} may be); empty when absent. */
  public List<Integer> integerOrList(String key) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    var out = new ArrayList<Integer>();
    if (e == null) {
      return out;
    }
    if (e.isJsonArray()) {
      for (JsonElement x : e.getAsJsonArray()) {
        out.add(asInt(key, x));
      }
    } else {
      out.add(asInt(key, e));
    }
    return out;
  }

  /** A nested object, empty when absent; its errors name {@code key.inner}. */
  public Optional<JsonConfigFile> object(String key) throws InvalidConfigException {
    JsonElement e = get(key).orElse(null);
    if (e == null) {
      return Optional.empty();
    }
    if (!e.isJsonObject()) {
      throw error(key, "must be an object, not " + kind(e));
    }
    return Optional.of(new JsonConfigFile(source, prefix + key + ".", e.getAsJsonObject()));
  }

  private int asInt(String key, JsonElement e) throws InvalidConfigException {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw error(key, "must be an integer, not " + kind(e) + " " + e);
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    String literal = p.getAsString();
    try {
      if (literal.contains(".") || literal.contains("e") || literal.contains("E")) {
        throw new NumberFormatException();
      }
      return new BigDecimal(literal).intValueExact();
    } catch (NumberFormatException | ArithmeticException ex) {
      throw error(key, "must be an integer in the int range, not " + literal);
    }
  }

  private InvalidConfigException missing(String key, String what) {
    return error(key, "is missing; it must be " + what);
  }

  static String kind(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    if (e.isJsonArray()) {
      return "a list";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isBoolean() ? "a boolean" : p.isNumber() ? "a number" : "a string";
  }
}
