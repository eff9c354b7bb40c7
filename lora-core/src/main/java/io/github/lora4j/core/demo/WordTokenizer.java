package io.github.lora4j.core.demo;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.lora4j.data.PretrainedTokenizer;
import io.github.lora4j.data.Tokenizer;
import io.github.lora4j.data.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A word-level Hugging Face tokenizer over a closed vocabulary, and the same tokenizer in Java. A
 * piece is a run of letters with the space before it ({@code " cost"}), or any other single
 * character ({@code "7"}, {@code "."}, {@code " "}, {@code "\n"}); the vocabulary is every piece of
 * the texts it was made from. Because the pieces cover the text exactly and the {@code Fuse} decoder
 * only concatenates, {@code decode(encode(text))} is {@code text} for any text of known pieces, and
 * every digit is a token of its own.
 *
 * <p>Written as {@code tokenizer.json} (a WordLevel model behind a {@code Split} pre-tokenizer with
 * {@link #PIECE}, a Llama-style post-processor that puts {@code <s>} in front, and a {@code Fuse}
 * decoder) and {@code tokenizer_config.json} (bos, eos, pad and unk tokens), which {@link
 * PretrainedTokenizer#load} reads. The Java {@link #encode} gives the same ids; it lets {@link
 * PricerDemo} count tokens before the files exist.
 */
final class WordTokenizer implements Tokenizer {
  static final String UNK = "<unk>";
  static final String BOS = "<s>";
  static final String EOS = "</s>";
  static final String PAD = "<pad>";

  /** Llama 2's ids for unk, bos and eos, then pad. */
  private static final List<String> SPECIALS = List.of(UNK, BOS, EOS, PAD);

  /**
   * One piece. Java's and Oniguruma's (the Rust tokenizers') engines agree on it: both read
   * {@code \p{L}} as Unicode letters, and every other character, newline included, is a piece alone.
   */
  static final String PIECE = " ?\\p{L}+|[^\\p{L}]";

  private static final Pattern PIECES = Pattern.compile(PIECE);

  private final Map<String, Integer> vocab;
  private final List<String> byId;

  private WordTokenizer(Map<String, Integer> vocab) {
    this.vocab = Collections.unmodifiableMap(vocab);
    this.byId = List.copyOf(vocab.keySet());
  }

  /** The pieces of {@code text}, in order; they concatenate to {@code text}. */
  static List<String> pieces(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = PIECES.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /** A tokenizer knowing the special tokens, the ten digits and every piece of {@code texts}; ids in sorted order. */
  static WordTokenizer of(Collection<String> texts) {
    TreeSet<String> pieces = new TreeSet<>();
    for (char d = '0'; d <= '9'; d++) {
      pieces.add(String.valueOf(d));
    }
    for (String text : texts) {
      pieces.addAll(pieces(text));
    }
    Map<String, Integer> vocab = new LinkedHashMap<>();
    SPECIALS.forEach(s -> vocab.put(s, vocab.size()));
    for (String p : pieces) {
      vocab.putIfAbsent(p, vocab.size());
    }
    return new WordTokenizer(vocab);
  }

  /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}. */
  void write(Path dir) throws IOException {
    var gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();
    Files.writeString(dir.resolve(PretrainedTokenizer.TOKENIZER_FILE), gson.toJson(tokenizerJson()), StandardCharsets.UTF_8);
    JsonObject config = new JsonObject();
    config.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
    config.addProperty("bos_token", BOS);
    config.addProperty("eos_token", EOS);
    config.addProperty("pad_token", PAD);
    config.addProperty("unk_token", UNK);
    // The decoder already gives the text back as it was; transformers' cleanup would change " ." to ".".
    config.addProperty("clean_up_tokenization_spaces", false);
    Files.writeString(dir.resolve(PretrainedTokenizer.CONFIG_FILE), gson.toJson(config), StandardCharsets.UTF_8);
  }

  private JsonObject tokenizerJson() {
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    JsonArray added = new JsonArray();
    for (String s : SPECIALS) {
      JsonObject t = new JsonObject();
      t.addProperty("id", vocab.get(s));
      t.addProperty("content", s);
      t.addProperty("single_word", false);
      t.addProperty("lstrip", false);
      t.addProperty("rstrip", false);
      t.addProperty("normalized", false);
      t.addProperty("special", true);
      added.add(t);
    }
    root.add("added_tokens", added);
    root.add("normalizer", null);

    JsonObject split = new JsonObject();
    split.addProperty("type", "Split");
    JsonObject pattern = new JsonObject();
    pattern.addProperty("Regex", PIECE);
    split.add("pattern", pattern);
    split.addProperty("behavior", "Isolated");
    split.addProperty("invert", false);
    root.add("pre_tokenizer", split);

    root.add("post_processor", bosInFront());
    JsonObject fuse = new JsonObject();
    fuse.addProperty("type", "Fuse");
    root.add("decoder", fuse);

    JsonObject model = new JsonObject();
    model.addProperty("type", "WordLevel");
    JsonObject v = new JsonObject();
    vocab.forEach(v::addProperty);
    model.add("vocab", v);
    model.addProperty("unk_token", UNK);
    root.add("model", model);
    return root;
  }

  /** Llama's TemplateProcessing: {@code <s>} before each sequence. */
  private JsonObject bosInFront() {
    JsonObject p = new JsonObject();
    p.addProperty("type", "TemplateProcessing");
    p.add("single", template("A"));
    JsonArray pair = template("A");
    pair.addAll(template("B"));
    p.add("pair", pair);
    JsonObject bos = new JsonObject();
    bos.addProperty("id", BOS);
    JsonArray ids = new JsonArray();
    ids.add(vocab.get(BOS));
    bos.add("ids", ids);
    JsonArray tokens = new JsonArray();
    tokens.add(BOS);
    bos.add("tokens", tokens);
    JsonObject specials = new JsonObject();
    specials.add(BOS, bos);
    p.add("special_tokens", specials);
    return p;
  }

  private static JsonArray template(String sequence) {
    JsonObject special = new JsonObject();
    JsonObject s = new JsonObject();
    s.addProperty("id", BOS);
    s.addProperty("type_id", sequence.equals("A") ? 0 : 1);
    special.add("SpecialToken", s);
    JsonObject seq = new JsonObject();
    JsonObject q = new JsonObject();
    q.addProperty("id", sequence);
    q.addProperty("type_id", sequence.equals("A") ? 0 : 1);
    seq.add("Sequence", q);
    JsonArray a = new JsonArray();
    a.add(special);
    a.add(seq);
    return a;
  }

  /**
   * The ids of {@code text}'s pieces, unknown pieces as {@code <unk>}, after {@code <s>} when asked;
   * special tokens written in the text (the EOS the SFT encoder appends) are matched first, as
   * Hugging Face's added tokens are.
   */
  @Override
  public Tokens encode(String text, boolean addSpecialTokens) {
    List<int[]> out = new ArrayList<>();
    if (addSpecialTokens) {
      out.add(new int[] {vocab.get(BOS), 0, 0});
    }
    int from = 0;
    while (from < text.length()) {
      int special = text.length();
      String found = null;
      for (String s : SPECIALS) {
        int at = text.indexOf(s, from);
        if (at >= 0 && at < special) {
          special = at;
          found = s;
        }
      }
      Matcher m = PIECES.matcher(text).region(from, special);
      while (m.find()) {
        out.add(new int[] {vocab.getOrDefault(m.group(), vocab.get(UNK)), m.start(), m.end()});
      }
      if (found != null) {
        out.add(new int[] {vocab.get(found), special, special + found.length()});
        special += found.length();
      }
      from = special;
    }
    int[] ids = new int[out.size()];
    int[] starts = new int[out.size()];
    int[] ends = new int[out.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = out.get(i)[0];
      starts[i] = out.get(i)[1];
      ends[i] = out.get(i)[2];
    }
    return new Tokens(ids, starts, ends);
  }

  @Override
  public String decode(int[] ids, boolean skipSpecialTokens) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      String piece = byId.get(id);
      if (!(skipSpecialTokens && SPECIALS.contains(piece))) {
        sb.append(piece);
      }
    }
    return sb.toString();
  }

  @Override
  public int vocabSize() {
    return vocab.size();
  }

  @Override
  public OptionalInt tokenId(String token) {
    Integer id = vocab.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  @Override
  public Optional<String> bosToken() {
    return Optional.of(BOS);
  }

  @Override
  public Optional<String> eosToken() {
    return Optional.of(EOS);
  }

  @Override
  public Optional<String> padToken() {
    return Optional.of(PAD);
  }

  @Override
  public Optional<String> chatTemplate() {
    return Optional.empty();
  }
}
