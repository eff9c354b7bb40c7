package io.github.lora4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.lora4j.core.Trainer;
import io.github.lora4j.core.TrainerConfig;
import io.github.lora4j.core.TrainerConfigException;
import io.github.lora4j.tensor.DType;
import io.github.lora4j.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The settings of a {@code lora4j train} run as its layers give them, each value with where it came
 * from: a config file ({@code run.yaml:3: lora_r}) or a flag ({@code --lora-r}). A higher layer
 * overrides a lower one ({@link #overriddenBy}), and {@link #applyTo} hands the values to a {@link
 * Trainer.Builder}, which may already hold a preset's. Bad input is a {@link BadSettings} listing every
 * problem, each prefixed with where the value came from.
 */
final class TrainSettings {

  /** Settings where giving one in a higher layer drops the other from the layers below. */
  private static final List<List<TrainSetting>> REPLACES = List.of(
      List.of(TrainSetting.WARMUP_STEPS, TrainSetting.WARMUP_RATIO),
      List.of(TrainSetting.WARMUP_RATIO, TrainSetting.WARMUP_STEPS),
      List.of(TrainSetting.EPOCHS, TrainSetting.MAX_STEPS));

  private static final Map<String, TrainSetting> BY_KEY = new HashMap<>();

  static {
    for (TrainSetting s : TrainSetting.values()) {
      for (String key : s.keys()) {
        TrainSetting clash = BY_KEY.put(TrainSetting.normalize(key), s);
        if (clash != null && clash != s) {
          throw new IllegalStateException("config key " + key + " names both " + clash + " and " + s);
        }
      }
    }
  }

  /**
   * A value and where it came from.
   *
   * @param value of the setting type's Java type: Path, String, Integer, Long, Double, Boolean,
   *     List of String, Device, DType or Quantization
   * @param origin {@code run.yaml:3: lora_r} or {@code --lora-r}
   */
  record Value(Object value, String origin) {}

  /** Bad settings: one line per problem, each naming where the value came from. */
  static final class BadSettings extends IllegalArgumentException {
    private final List<String> problems;

    BadSettings(List<String> problems) {
      super(problems.size() == 1 ? problems.getFirst() : problems.size() + " problems with the settings:\n  " + String.join("\n  ", problems));
      this.problems = List.copyOf(problems);
    }

    List<String> problems() {
      return problems;
    }
  }

  private final Map<TrainSetting, Value> values;

  private TrainSettings(Map<TrainSetting, Value> values) {
    this.values = values.isEmpty() ? new EnumMap<>(TrainSetting.class) : new EnumMap<>(values);
  }

  static TrainSettings empty() {
    return new TrainSettings(Map.of());
  }

  /** The setting a config key names, ignoring case, '_' and '-'. */
  static Optional<TrainSetting> forKey(String key) {
    return Optional.ofNullable(BY_KEY.get(TrainSetting.normalize(key)));
  }

  /**
   * Reads a YAML ({@code .yaml}, {@code .yml}) or JSON ({@code .json}) file holding one mapping of
   * setting keys to values. Relative paths in it are relative to the working directory, as
   * transformers reads its config files. A {@code null} value leaves the setting as it is.
   *
   * @throws BadSettings for a missing file, a syntax error (with its line), anything but a mapping at
   *     the top, and every unknown key, value of the wrong type and key given twice, each with its line
   */
  static TrainSettings readFile(Path file) {
    String name = file.getFileName() == null ? file.toString() : file.getFileName().toString().toLowerCase(Locale.ROOT);
    JsonFactory factory;
    if (name.endsWith(".yaml") || name.endsWith(".yml")) {
      factory = new YAMLFactory();
    } else if (name.endsWith(".json")) {
      factory = new JsonFactory();
    } else {
      throw new BadSettings(List.of(file + ": a config file must end in .yaml, .yml or .json"));
    }
    if (!Files.isRegularFile(file)) {
      throw new BadSettings(List.of(file + (Files.isDirectory(file) ? ": is a directory, not a config file" : ": no such file")));
    }
    ObjectMapper mapper = new ObjectMapper(factory);
    Map<TrainSetting, Value> values = new EnumMap<>(TrainSetting.class);
    Map<TrainSetting, Integer> lines = new EnumMap<>(TrainSetting.class);
    List<String> problems = new ArrayList<>();
    try (JsonParser p = factory.createParser(file.toFile())) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return empty();
      }
      if (first != JsonToken.START_OBJECT) {
        throw new BadSettings(List.of(file + ":" + line(p.currentTokenLocation()) + ": the file must be a mapping of setting: value, not " + describe(first)));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int line = line(p.currentTokenLocation());
        p.nextToken();
        JsonNode node = mapper.readTree(p);
        String origin = file + ":" + line + ": " + key;
        Optional<TrainSetting> setting = forKey(key);
        if (setting.isEmpty()) {
          problems.add(file + ":" + line + ": unknown key '" + key + "'" + suggestion(key) + "; lora4j train --help lists the settings");
          continue;
        }
        TrainSetting s = setting.get();
        Integer earlier = lines.put(s, line);
        if (earlier != null) {
          problems.add(origin + ": sets " + s.builderName() + " again (line " + earlier + " set it first)");
          continue;
        }
        try {
          Object raw = raw(node);
          if (raw != null) {
            Object value = convert(s, raw);
            if (value != null) {
              values.put(s, new Value(value, origin));
            }
          }
        } catch (IllegalArgumentException e) {
          problems.add(origin + ": " + e.getMessage());
        }
      }
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr();
      throw new BadSettings(List.of(file + where + ": " + (factory instanceof YAMLFactory ? "YAML" : "JSON") + " syntax error: " + syntaxProblem(e.getOriginalMessage())));
    } catch (IOException e) {
      throw new BadSettings(List.of(file + ": cannot read: " + e.getMessage()));
    }
    if (!problems.isEmpty()) {
      throw new BadSettings(problems);
    }
    return new TrainSettings(values);
  }

  /**
   * The settings given as flags: for each setting, the text after its flag (a boolean flag given
   * alone is {@code "true"}).
   *
   * @throws BadSettings listing every value that is not of its setting's type
   */
  static TrainSettings fromFlags(Map<TrainSetting, String> flags) {
    Map<TrainSetting, Value> values = new EnumMap<>(TrainSetting.class);
    List<String> problems = new ArrayList<>();
    flags.forEach((s, text) -> {
      String origin = s.flags().getFirst();
      try {
        Object value = convert(s, text);
        if (value != null) {
          values.put(s, new Value(value, origin));
        }
      } catch (IllegalArgumentException e) {
        problems.add(origin + ": " + e.getMessage());
      }
    });
    if (!problems.isEmpty()) {
      throw new BadSettings(problems);
    }
    return new TrainSettings(values);
  }

  /**
   * These settings with {@code higher}'s on top. A warmup given in {@code higher} as steps drops this
   * layer's warmup ratio and the other way round; epochs given without max steps drop max steps.
   */
  TrainSettings overriddenBy(TrainSettings higher) {
    Map<TrainSetting, Value> merged = new EnumMap<>(TrainSetting.class);
    merged.putAll(values);
    for (List<TrainSetting> rule : REPLACES) {
      if (higher.has(rule.get(0)) && !higher.has(rule.get(1))) {
        merged.remove(rule.get(1));
      }
    }
    merged.putAll(higher.values);
    return new TrainSettings(merged);
  }

  boolean has(TrainSetting s) {
    return values.containsKey(s);
  }

  Optional<Object> get(TrainSetting s) {
    return Optional.ofNullable(values.get(s)).map(Value::value);
  }

  /** The settings given, in the builder's order. */
  Set<TrainSetting> given() {
    return values.keySet();
  }

  /**
   * Calls {@code builder}'s method for every value. A builder that already holds a warmup ratio, or
   * max steps, from a preset loses it to these settings' warmup steps, or epochs, as {@link
   * #overriddenBy} does between layers.
   */
  Trainer.Builder applyTo(Trainer.Builder builder) {
    for (List<TrainSetting> rule : REPLACES) {
      if (has(rule.get(0)) && !has(rule.get(1))) {
        resetToDefault(builder, rule.get(1));
      }
    }
    values.forEach((s, v) -> s.apply(builder, v.value()));
    return builder;
  }

  private static void resetToDefault(Trainer.Builder builder, TrainSetting s) {
    switch (s) {
      case WARMUP_RATIO -> builder.warmupRatio(0);
      case WARMUP_STEPS -> builder.warmupSteps(0);
      case MAX_STEPS -> builder.maxSteps(-1);
      default -> throw new IllegalStateException("no default to reset " + s + " to");
    }
  }

  /**
   * Builds {@code builder} with these settings applied. The builder's problems come back all at
   * once, those about a setting given here prefixed with where it came from ({@code run.yaml:3:
   * lora_r: loraR must be positive: -1}).
   *
   * @param ignored settings whose problems to leave out (a preset's inputs not written yet)
   * @return the trainer, or empty when the only problems were about {@code ignored} settings
   * @throws BadSettings listing every other problem
   */
  Optional<Trainer> build(Trainer.Builder builder, Collection<TrainSetting> ignored) {
    try {
      return Optional.of(applyTo(builder).build());
    } catch (TrainerConfigException e) {
      List<String> problems = new ArrayList<>();
      for (String problem : e.problems()) {
        Optional<TrainSetting> about = about(problem);
        if (about.isPresent() && ignored.contains(about.get())) {
          continue;
        }
        problems.add(about.filter(this::has).map(s -> values.get(s).origin() + ": " + problem).orElse(problem));
      }
      if (problems.isEmpty()) {
        return Optional.empty();
      }
      throw new BadSettings(problems);
    }
  }

  /** The setting a builder problem is about: the one whose name starts it ("loraR must be ..."). */
  static Optional<TrainSetting> about(String problem) {
    return Arrays.stream(TrainSetting.values())
        .filter(s -> problem.startsWith(s.builderName() + " ") || problem.startsWith(s.builderName() + ":"))
        .max(Comparator.comparingInt(s -> s.builderName().length()));
  }

  /** A scalar node as String, Number or Boolean, a sequence as a List; null for YAML's null. */
  private static Object raw(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isNumber()) {
      return node.numberValue();
    }
    if (node.isArray()) {
      List<Object> items = new ArrayList<>();
      for (JsonNode item : node) {
        if (!item.isValueNode() || item.isNull()) {
          throw new IllegalArgumentException("a list may hold only names, not " + item);
        }
        items.add(item.asText());
      }
      return items;
    }
    throw new IllegalArgumentException("must be a single value, not a mapping: " + node);
  }

  /**
   * {@code raw} (a flag's text, or a config file's String, Number, Boolean or List) as a value of
   * {@code s}'s type; null when it unsets the setting ({@code resume_from_checkpoint: false}).
   *
   * @throws IllegalArgumentException saying what the setting takes and what it got
   */
  static Object convert(TrainSetting s, Object raw) {
    TrainSetting.Type type = s.type();
    Object value = switch (type) {
      case INT -> integer(raw, Integer.MIN_VALUE, Integer.MAX_VALUE) instanceof Long l ? Math.toIntExact(l) : null;
      case LONG -> integer(raw, Long.MIN_VALUE, Long.MAX_VALUE);
      case DOUBLE -> number(raw);
      case BOOLEAN -> bool(raw);
      case STRING -> raw instanceof String || raw instanceof Number ? raw.toString().strip() : null;
      case PATH -> raw instanceof String text ? path(text) : null;
      case LIST -> list(raw);
      case DEVICE -> raw instanceof String text ? device(text) : null;
      case DTYPE -> raw instanceof String text ? dtype(text) : null;
      case QUANTIZATION -> raw instanceof String text ? quantization(text) : null;
      case RESUME -> raw instanceof Boolean b ? (b ? "latest" : Unset.UNSET) : raw instanceof String text && !text.isBlank() ? text.strip() : null;
    };
    if (value == null) {
      throw new IllegalArgumentException("must be " + type.expected + ", not " + render(raw));
    }
    return value == Unset.UNSET ? null : value;
  }

  /** A value that leaves the setting unset. */
  private enum Unset {
    UNSET
  }

  private static Long integer(Object raw, long min, long max) {
    Long v = null;
    if (raw instanceof Integer || raw instanceof Long || raw instanceof Short) {
      v = ((Number) raw).longValue();
    } else if (raw instanceof String text) {
      try {
        v = Long.parseLong(text.strip());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return v != null && v >= min && v <= max ? v : null;
  }

  private static Double number(Object raw) {
    if (raw instanceof Number n) {
      return n.doubleValue();
    }
    if (raw instanceof String text) {
      // YAML 1.1 reads 1e-4 (no dot) as a string; transformers' YAML users write it anyway.
      try {
        return Double.parseDouble(text.strip());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  private static Boolean bool(Object raw) {
    if (raw instanceof Boolean b) {
      return b;
    }
    if (raw instanceof String text && (text.strip().equalsIgnoreCase("true") || text.strip().equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(text.strip());
    }
    return null;
  }

  private static Path path(String text) {
    if (text.isBlank()) {
      return null;
    }
    try {
      return Path.of(text.strip());
    } catch (InvalidPathException e) {
      return null;
    }
  }

  private static List<String> list(Object raw) {
    List<String> names;
    if (raw instanceof String text) {
      names = Arrays.stream(text.split(",")).map(String::strip).toList();
    } else if (raw instanceof List<?> items) {
      names = items.stream().map(i -> i.toString().strip()).toList();
    } else {
      return null;
    }
    return names.isEmpty() || names.stream().anyMatch(String::isEmpty) ? null : names;
  }

  private static Device device(String text) {
    try {
      return Device.parse(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static DType dtype(String text) {
    return switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "bf16", "bfloat16" -> DType.BF16;
      case "fp16", "f16", "float16", "half" -> DType.F16;
      case "fp32", "f32", "float32", "float" -> DType.F32;
      default -> null;
    };
  }

  private static TrainerConfig.Quantization quantization(String text) {
    for (TrainerConfig.Quantization q : TrainerConfig.Quantization.values()) {
      if (q.name().equalsIgnoreCase(text.strip())) {
        return q;
      }
    }
    return null;
  }

  private static String render(Object raw) {
    return raw instanceof String s ? "'" + s + "'" : raw instanceof List<?> l ? l.toString() : String.valueOf(raw);
  }

  /**
   * " (did you mean 'lora_r'?)" for a key a letter or two away from a known one, in the key's own
   * style: snake_case for a key with '_', else camelCase.
   */
  private static String suggestion(String key) {
    String wanted = TrainSetting.normalize(key);
    boolean snake = key.contains("_");
    String best = null;
    int bestDistance = 3;
    for (TrainSetting s : TrainSetting.values()) {
      for (String k : s.keys()) {
        int d = distance(wanted, TrainSetting.normalize(k));
        if (d < bestDistance || d == bestDistance && best != null && k.contains("_") == snake && best.contains("_") != snake) {
          bestDistance = d;
          best = k;
        }
      }
    }
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static int line(JsonLocation at) {
    return at == null ? 0 : at.getLineNr();
  }

  private static String describe(JsonToken token) {
    return switch (token) {
      case START_ARRAY -> "a list";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      default -> token.asString() == null ? token.name() : token.asString();
    };
  }

  /**
   * The parser's words without its excerpts of the file: SnakeYAML indents the quoted lines and
   * their "in 'reader', line 2" marks, which the location before the message already says.
   */
  private static String syntaxProblem(String message) {
    return message == null ? "" : message.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).map(String::strip)
        .collect(Collectors.joining("; "));
  }

  @Override
  public String toString() {
    return values.entrySet().stream().map(e -> e.getKey().builderName() + "=" + e.getValue().value()).collect(Collectors.joining(", ", "{", "}"));
  }
}
