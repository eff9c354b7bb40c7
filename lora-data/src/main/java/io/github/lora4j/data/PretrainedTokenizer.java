package io.github.lora4j.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.HashSet;

/**
 * A Hugging Face tokenizer: {@code tokenizer.json} run by the Rust {@code tokenizers} library
 * through DJL, plus the special tokens and chat template of {@code tokenizer_config.json}. Close it
 * to free the native tokenizer.
 *
 * <pre>{@code
 * try (PretrainedTokenizer tok = PretrainedTokenizer.load(Path.of("Llama-3.1-8B"))) {
 *   int[] ids = tok.encode("Hello", true).ids(); // [128000, 9906]
 * }
 * }</pre>
 *
 * <p>Special tokens are added by {@code tokenizer.json}'s post-processor, as Hugging Face's fast
 * tokenizers do; {@code add_bos_token}/{@code add_eos_token} in the config are not consulted
 * (transformers folds them into the post-processor when it saves a fast tokenizer).
 */
public final class PretrainedTokenizer implements Tokenizer, AutoCloseable {

  /** The tokenizer's file in a Hugging Face model directory. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** The tokenizer config's file in a Hugging Face model directory. */
  public static final String CONFIG_FILE = "tokenizer_config.json";

  static {
    // Tokenising runs on the CPU. On a machine with CUDA, DJL would otherwise pick a CUDA build of
    // its tokenizer library, which is not in the jar, and try to download it (failing offline).
    if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
      System.setProperty("RUST_FLAVOR", "cpu");
    }
  }

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> addedTokens;
  private final Set<Integer> specialIds;
  private final Map<String, Integer> vocab;
  private final int vocabSize;
  private final String bosToken;
  private final String eosToken;
  private final String padToken;
  private final String chatTemplate;

  private PretrainedTokenizer(HuggingFaceTokenizer tokenizer, TokenizerFile file, JsonObject config) {
    this.tokenizer = tokenizer;
    this.addedTokens = file.added;
    this.specialIds = file.special;
    this.vocab = file.vocab;
    this.vocabSize = file.size;
    this.bosToken = tokenText(config, "bos_token");
    this.eosToken = tokenText(config, "eos_token");
    this.padToken = tokenText(config, "pad_token");
    this.chatTemplate = chatTemplate(config);
  }

  /**
   * Loads {@code tokenizer.json} and, if present, {@code tokenizer_config.json} from a model
   * directory.
   */
  public static PretrainedTokenizer load(Path directory) throws IOException {
    return load(directory.resolve(TOKENIZER_FILE), directory.resolve(CONFIG_FILE));
  }

  /**
   * Loads a tokenizer from its two files.
   *
   * @param tokenizerJson the {@code tokenizer.json}
   * @param tokenizerConfig the {@code tokenizer_config.json}, or a path that does not exist when
   *     there is none (then there are no named special tokens and no chat template)
   */
  public static PretrainedTokenizer load(Path tokenizerJson, Path tokenizerConfig) throws IOException {
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new IOException("no tokenizer file at " + tokenizerJson);
    }
    JsonObject config = new JsonObject();
    if (tokenizerConfig != null && Files.isRegularFile(tokenizerConfig)) {
      try (Reader r = Files.newBufferedReader(tokenizerConfig, StandardCharsets.UTF_8)) {
        JsonElement e = JsonParser.parseReader(r);
        if (!e.isJsonObject()) {
          throw new IOException(tokenizerConfig + ": not a JSON object");
        }
        config = e.getAsJsonObject();
      } catch (com.google.gson.JsonParseException e) {
        throw new IOException(tokenizerConfig + ": malformed JSON: " + e.getMessage(), e);
      }
    }
    TokenizerFile file = TokenizerFile.read(tokenizerJson);
    // Truncation and padding are the SFT encoder's business, with counts; the native tokenizer
    // must hand back every token.
    HuggingFaceTokenizer native_ =
        HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optTruncation(false).optPadding(false).optAddSpecialTokens(true).build();
    return new PretrainedTokenizer(native_, file, config);
  }

  @Override
  public Tokens encode(String text, boolean addSpecialTokens) {
    Objects.requireNonNull(text, "text");
    Encoding e = tokenizer.encode(text, addSpecialTokens, false);
    long[] ids = e.getIds();
    CharSpan[] spans = e.getCharTokenSpans();
    int[] out = new int[ids.length];
    int[] starts = new int[ids.length];
    int[] ends = new int[ids.length];
    CodePointIndex index = CodePointIndex.of(text);
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
      CharSpan s = spans[i];
      if (s != null && !(specialIds.contains(out[i]) && s.getStart() == s.getEnd())) {
        starts[i] = index.utf16(s.getStart());
        ends[i] = index.utf16(s.getEnd());
      }
    }
    return new Tokens(out, starts, ends);
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, skipSpecialTokens);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public OptionalInt tokenId(String token) {
    Integer id = addedTokens.get(token);
    if (id == null) {
      id = vocab.get(token);
    }
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public Optional<String> bosToken() {
    return Optional.ofNullable(bosToken);
  }

  @Override
  public Optional<String> eosToken() {
    return Optional.ofNullable(eosToken);
  }

  @Override
  public Optional<String> padToken() {
    return Optional.ofNullable(padToken);
  }

  @Override
  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  /** True when {@code id} is one of {@code tokenizer.json}'s special added tokens. */
  public boolean isSpecial(int id) {
    return specialIds.contains(id);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** A special token in the config is a string or an AddedToken object with its text in "content". */
  private static String tokenText(JsonObject config, String key) {
    JsonElement e = config.get(key);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject() && e.getAsJsonObject().has("content")) {
      return e.getAsJsonObject().get("content").getAsString();
    }
    return e.getAsString();
  }

  /** A string, or a list of named templates of which transformers uses "default". */
  private static String chatTemplate(JsonObject config) {
    JsonElement e = config.get("chat_template");
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonArray()) {
      for (JsonElement t : e.getAsJsonArray()) {
        JsonObject o = t.getAsJsonObject();
        if ("default".equals(o.get("name").getAsString())) {
          return o.get("template").getAsString();
        }
      }
      return null;
    }
    return e.getAsString();
  }

  /**
   * The parts of {@code tokenizer.json} that DJL does not expose: the added tokens (which are
   * special), the vocabulary (for token ids) and the vocabulary size. Read with a streaming parser,
   * since the file is megabytes of merges we do not need.
   */
  private record TokenizerFile(Map<String, Integer> added, Set<Integer> special, Map<String, Integer> vocab, int size) {

    static TokenizerFile read(Path file) throws IOException {
      Map<String, Integer> added = new HashMap<>();
      Set<Integer> special = new HashSet<>();
      Map<String, Integer> vocab = new HashMap<>();
      int max = -1;
      try (JsonReader r = new JsonReader(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
        r.beginObject();
        while (r.hasNext()) {
          switch (r.nextName()) {
            case "added_tokens" -> {
              r.beginArray();
              while (r.hasNext()) {
                JsonObject t = JsonParser.parseReader(r).getAsJsonObject();
                int id = t.get("id").getAsInt();
                added.put(t.get("content").getAsString(), id);
                if (t.has("special") && t.get("special").getAsBoolean()) {
                  special.add(id);
                }
                max = Math.max(max, id);
              }
              r.endArray();
            }
            case "model" -> {
              r.beginObject();
              while (r.hasNext()) {
                if (r.nextName().equals("vocab") && r.peek() == JsonToken.BEGIN_OBJECT) {
                  r.beginObject();
                  while (r.hasNext()) {
                    String token = r.nextName();
                    int id = r.nextInt();
                    vocab.put(token, id);
                    max = Math.max(max, id);
                  }
                  r.endObject();
                } else {
                  r.skipValue();
                }
              }
              r.endObject();
            }
            default -> r.skipValue();
          }
        }
      } catch (IllegalStateException | com.google.gson.JsonParseException e) {
        throw new IOException(file + ": not a Hugging Face tokenizer.json: " + e.getMessage(), e);
      }
      if (max < 0) {
        throw new IOException(file + ": no vocabulary and no added tokens");
      }
      return new TokenizerFile(Map.copyOf(added), Set.copyOf(special), vocab, max + 1);
    }
  }
}
