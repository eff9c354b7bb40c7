package io.github.lora4j.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pricer workload's data: the course's curation of product listings into prompt-completion
 * pairs that teach a model to guess a price. The pipeline, applied by {@link #curate} to each item:
 *
 * <ol>
 *   <li>Keep the item only if it has a price in {@code [minPrice, maxPrice]} (the course: $0.50 to
 *       $999.49).
 *   <li>Gather its text: the description, the features, and the details without boilerplate (the
 *       "Batteries Included?"-style entries, ranks, dates and part numbers, see {@link
 *       #BOILERPLATE_DETAILS}).
 *   <li>Clean it: JSON punctuation and brackets become spaces, whitespace runs collapse, and words
 *       of seven or more characters that contain a digit (part and model numbers, which tell the
 *       model nothing about the price) are dropped.
 *   <li>Keep the item only if the cleaned text has at least {@code minChars} characters (the
 *       course: 300): short listings are mostly noise.
 *   <li>The item text is the cleaned title, a newline, and the cleaned text, cut at a token boundary
 *       so that the prompt plus the completion take at most {@code maxContentTokens} tokens (the
 *       seed: 179), and so at most {@code maxSequenceLength} (182) with BOS and EOS.
 *   <li>The prompt is {@value #QUESTION}, a blank line, the item text, a blank line and {@value
 *       #PRICE_PREFIX}; the completion is the price rounded to whole dollars and {@code ".00"}.
 * </ol>
 *
 * Every dropped item is counted by reason in the {@link Curated#dropped()} map and logged.
 *
 * <pre>{@code
 * PricerData pricer = PricerData.builder(tokenizer).build();
 * PricerData.Curated data = pricer.curate(items);
 * SftDataset train = SftDataset.encode(data.examples(), tokenizer, SftConfig.builder().maxSequenceLength(182).build());
 * }</pre>
 */
public final class PricerData {

  private static final Logger LOG = LoggerFactory.getLogger(PricerData.class);

  /** The question that opens every prompt. */
  public static final String QUESTION = "How much does this cost to the nearest dollar?";

  /** The words that end every prompt; the model continues with the price. */
  public static final String PRICE_PREFIX = "Price is $";

  /** Detail keys that say nothing about the price (or give away a part number); dropped. */
  public static final Set<String> BOILERPLATE_DETAILS =
      Set.of(
          "Batteries Included?",
          "Batteries Required?",
          "Batteries",
          "Date First Available",
          "Best Sellers Rank",
          "Customer Reviews",
          "Is Discontinued By Manufacturer",
          "Item model number",
          "Model Number",
          "Part Number",
          "Manufacturer Part Number",
          "UPC",
          "ASIN");

  private static final Pattern PUNCTUATION = Pattern.compile("[:\\[\\]\"{}【】\\s]+");
  private static final Pattern PART_NUMBER = Pattern.compile("(?<!\\S)(?=\\S*\\d)\\S{7,}(?!\\S)");
  private static final Pattern NUMBER = Pattern.compile("[-+]?\\d*\\.?\\d+");

  private final Tokenizer tokenizer;
  private final double minPrice;
  private final double maxPrice;
  private final int minChars;
  private final int maxContentTokens;
  private final int maxSequenceLength;

  private PricerData(Builder b) {
    this.tokenizer = b.tokenizer;
    this.minPrice = b.minPrice;
    this.maxPrice = b.maxPrice;
    this.minChars = b.minChars;
    this.maxContentTokens = b.maxContentTokens;
    this.maxSequenceLength = b.maxSequenceLength;
  }

  /** A pipeline with the course's settings, cutting texts with {@code tokenizer}. */
  public static Builder builder(Tokenizer tokenizer) {
    return new Builder(tokenizer);
  }

  /** The prompt for an item text. */
  public static String prompt(String text) {
    return QUESTION + "\n\n" + text + "\n\n" + PRICE_PREFIX;
  }

  /** The completion for a price: whole dollars, then ".00" ({@code 129.4 -> "129.00"}). */
  public static String completion(double price) {
    if (!Double.isFinite(price) || price < 0) {
      throw new IllegalArgumentException("price must be finite and >= 0: " + price);
    }
    return Math.round(price) + ".00";
  }

  /**
   * The price a model wrote after {@value #PRICE_PREFIX}: the first number in {@code generated},
   * ignoring "$" and thousands separators, as the course's tester reads it; empty when there is
   * none.
   */
  public static OptionalDouble parsePrice(String generated) {
    Matcher m = NUMBER.matcher(generated.replace("$", "").replace(",", ""));
    return m.find() ? OptionalDouble.of(Double.parseDouble(m.group())) : OptionalDouble.empty();
  }

  /** Cleans a piece of listing text as step 3 says. */
  public static String scrub(String text) {
    String s = PUNCTUATION.matcher(text).replaceAll(" ").strip();
    s = s.replace(" ,", ",").replace(",,,", ",").replace(",,", ",");
    s = PART_NUMBER.matcher(s).replaceAll("");
    return s.replaceAll(" {2,}", " ").strip();
  }

  /**
   * The curated examples and what was dropped.
   *
   * @param examples the kept items, in input order
   * @param items the items looked at
   * @param dropped the items dropped, by reason
   * @param cut the kept items whose text was cut to fit the token budget
   */
  public record Curated(List<PricedExample> examples, long items, Map<String, Long> dropped, long cut) {
    public Curated {
      examples = List.copyOf(examples);
      dropped = Map.copyOf(dropped);
    }

    /** The prompt-completion pairs, for {@link SftDataset#encode}. */
    public List<Example.PromptCompletion> trainingExamples() {
      return examples.stream().map(PricedExample::example).toList();
    }
  }

  /** Runs the pipeline on {@code items}. */
  public Curated curate(List<PricerItem> items) {
    List<PricedExample> kept = new ArrayList<>();
    Map<String, Long> dropped = new TreeMap<>();
    long cut = 0;
    for (PricerItem item : items) {
      String reason = null;
      if (Double.isNaN(item.price())) {
        reason = "no price";
      } else if (item.price() < minPrice || item.price() > maxPrice) {
        reason = "price outside [" + minPrice + ", " + maxPrice + "]";
      }
      String contents = null;
      if (reason == null) {
        contents = scrub(contents(item));
        if (contents.length() < minChars) {
          reason = "text shorter than " + minChars + " characters";
        }
      }
      if (reason == null && scrub(item.title()).isEmpty()) {
        reason = "no title";
      }
      if (reason != null) {
        dropped.merge(reason, 1L, Long::sum);
        LOG.debug("{}: dropped: {}", item.origin(), reason);
        continue;
      }
      // Tokenizing megabytes of description to keep 179 tokens is waste; no token in Llama's
      // vocabulary is longer than a few dozen characters, so 16 characters a token is ample.
      String full = scrub(item.title()) + "\n" + contents;
      String fitted = fit(full.substring(0, Math.min(full.length(), 16 * maxContentTokens)), item.price());
      if (fitted == null) {
        dropped.merge("does not fit " + maxContentTokens + " tokens", 1L, Long::sum);
        continue;
      }
      if (fitted.length() < full.length()) {
        cut++;
      }
      kept.add(new PricedExample(fitted, item.price(), new Example.PromptCompletion(prompt(fitted), completion(item.price()), item.origin())));
    }
    long total = dropped.values().stream().mapToLong(Long::longValue).sum();
    LOG.info(
        "pricer curation kept {} of {} items ({} cut to {} tokens); dropped {}{}",
        kept.size(), items.size(), cut, maxContentTokens, total, total > 0 ? ": " + dropped : "");
    return new Curated(kept, items.size(), dropped, cut);
  }

  /** The description, features and non-boilerplate details, one per line. */
  static String contents(PricerItem item) {
    StringBuilder out = new StringBuilder();
    for (String d : item.description()) {
      out.append(d).append('\n');
    }
    for (String f : item.features()) {
      out.append(f).append('\n');
    }
    for (var e : item.details().entrySet()) {
      if (!BOILERPLATE_DETAILS.contains(e.getKey().strip())) {
        out.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
      }
    }
    return out.toString();
  }

  /**
   * The longest token-boundary prefix of {@code text} whose prompt and completion take at most
   * {@code maxContentTokens} tokens; null when not even an empty text fits.
   */
  String fit(String text, double price) {
    String completion = completion(price);
    int total = contentTokens(text, completion);
    if (total <= maxContentTokens) {
      return checkWithSpecials(text, completion);
    }
    Tokens t = tokenizer.encode(text, false);
    // The prompt's other tokens; the text's edges may merge differently, so check and step back.
    int overhead = total - t.size();
    int keep = Math.min(t.size(), maxContentTokens - overhead);
    while (keep > 0) {
      String candidate = text.substring(0, t.ends()[keep - 1]).stripTrailing();
      if (contentTokens(candidate, completion) <= maxContentTokens) {
        return checkWithSpecials(candidate, completion);
      }
      keep--;
    }
    return null;
  }

  private String checkWithSpecials(String text, String completion) {
    // BOS from the post-processor plus the EOS the SFT encoder appends.
    int withSpecials = tokenizer.encode(prompt(text) + completion, true).size() + (tokenizer.eosTokenId().isPresent() ? 1 : 0);
    if (withSpecials > maxSequenceLength) {
      int specials = withSpecials - contentTokens(text, completion);
      throw new IllegalStateException(
          "the tokenizer adds " + specials + " special tokens (with EOS), but maxContentTokens " + maxContentTokens + " and maxSequenceLength " + maxSequenceLength + " leave room for " + (maxSequenceLength - maxContentTokens));
    }
    return text;
  }

  private int contentTokens(String text, String completion) {
    return tokenizer.encode(prompt(text) + completion, false).size();
  }

  /**
   * Reads catalogue items from JSON Lines with the Amazon Reviews 2023 metadata fields: {@code
   * title}, {@code description} and {@code features} (lists of strings), {@code details} (an object,
   * or a JSON string of one), {@code price} (a number; null, "None" or absent when unknown) and
   * {@code main_category}. Bad lines follow {@code policy}.
   */
  public static List<PricerItem> readItems(Path file, InvalidRecordPolicy policy) throws IOException {
    InputStream in = Files.newInputStream(file);
    if (file.getFileName().toString().endsWith(".gz")) {
      in = new GZIPInputStream(in, 1 << 16);
    }
    InvalidRecords invalid = new InvalidRecords(policy, file.toString());
    List<PricerItem> items = new ArrayList<>();
    try (JsonlReader reader = new JsonlReader(in, file.toString())) {
      while (reader.hasNext()) {
        RawRecord r = reader.next();
        if (r.isBlank()) {
          invalid.ignore(r.origin(), "blank line");
          continue;
        }
        try {
          if (r.error() != null) {
            throw r.error();
          }
          items.add(item(r.fields(), r.origin()));
        } catch (InvalidRecordException e) {
          invalid.reject(e);
        }
      }
    }
    invalid.logSummary();
    return items;
  }

  private static PricerItem item(JsonObject o, Origin origin) {
    String title = optionalString(o, "title", origin);
    if (title == null || title.isBlank()) {
      throw new InvalidRecordException(origin, "title", "missing");
    }
    Map<String, String> details = new LinkedHashMap<>();
    JsonElement d = o.get("details");
    if (d != null && d.isJsonPrimitive() && d.getAsJsonPrimitive().isString()) {
      try {
        d = JsonParser.parseString(d.getAsString());
      } catch (RuntimeException e) {
        throw new InvalidRecordException(origin, "details", "is a string but not a JSON object", null, e);
      }
    }
    if (d != null && d.isJsonObject()) {
      for (var e : d.getAsJsonObject().entrySet()) {
        details.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString());
      }
    } else if (d != null && !d.isJsonNull()) {
      throw new InvalidRecordException(origin, "details", "must be an object");
    }
    String category = optionalString(o, "main_category", origin);
    return new PricerItem(title, strings(o, "description", origin), strings(o, "features", origin), details, category == null ? "" : category, price(o, origin), origin);
  }

  private static double price(JsonObject o, Origin origin) {
    JsonElement p = o.get("price");
    if (p == null || p.isJsonNull()) {
      return Double.NaN;
    }
    if (p.isJsonPrimitive() && p.getAsJsonPrimitive().isNumber()) {
      return p.getAsDouble();
    }
    if (p.isJsonPrimitive() && p.getAsJsonPrimitive().isString()) {
      String s = p.getAsString().strip().replace("$", "").replace(",", "");
      if (s.isEmpty() || s.equalsIgnoreCase("None")) {
        return Double.NaN;
      }
      try {
        return Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new InvalidRecordException(origin, "price", "is not a number", p.getAsString(), e);
      }
    }
    throw new InvalidRecordException(origin, "price", "must be a number");
  }

  private static String optionalString(JsonObject o, String key, Origin origin) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (!e.isJsonPrimitive()) {
      throw new InvalidRecordException(origin, key, "must be a string");
    }
    return e.getAsString();
  }

  private static List<String> strings(JsonObject o, String key, Origin origin) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      return List.of();
    }
    if (e.isJsonPrimitive()) {
      return List.of(e.getAsString());
    }
    if (!e.isJsonArray()) {
      throw new InvalidRecordException(origin, key, "must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < e.getAsJsonArray().size(); i++) {
      JsonElement x = e.getAsJsonArray().get(i);
      if (!x.isJsonPrimitive()) {
        throw new InvalidRecordException(origin, key + "[" + i + "]", "must be a string");
      }
      out.add(x.getAsString());
    }
    return out;
  }

  /** The pipeline's settings; each setter checks its argument. */
  public static final class Builder {
    private final Tokenizer tokenizer;
    private double minPrice = 0.5;
    private double maxPrice = 999.49;
    private int minChars = 300;
    private int maxContentTokens = 179;
    private int maxSequenceLength = 182;

    private Builder(Tokenizer tokenizer) {
      this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /** The price range kept, in dollars; the course's $0.50 to $999.49 by default. */
    public Builder priceRange(double minPrice, double maxPrice) {
      if (!(minPrice >= 0 && maxPrice >= minPrice && Double.isFinite(maxPrice))) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "priceRange must satisfy 0 <= minPrice <= maxPrice < infinity: [%s, %s]", minPrice, maxPrice));
      }
      this.minPrice = minPrice;
      this.maxPrice = maxPrice;
      return this;
    }

    /** The fewest characters of cleaned text an item needs; 300 by default. */
    public Builder minChars(int minChars) {
      if (minChars < 0) {
        throw new IllegalArgumentException("minChars must be >= 0: " + minChars);
      }
      this.minChars = minChars;
      return this;
    }

    /** The most tokens of prompt plus completion, without special tokens; 179 by default. */
    public Builder maxContentTokens(int maxContentTokens) {
      if (maxContentTokens <= 0) {
        throw new IllegalArgumentException("maxContentTokens must be positive: " + maxContentTokens);
      }
      this.maxContentTokens = maxContentTokens;
      return this;
    }

    /** The most tokens with BOS and EOS, the SFT {@code maxSequenceLength}; 182 by default. */
    public Builder maxSequenceLength(int maxSequenceLength) {
      if (maxSequenceLength <= 0) {
        throw new IllegalArgumentException("maxSequenceLength must be positive: " + maxSequenceLength);
      }
      this.maxSequenceLength = maxSequenceLength;
      return this;
    }

    public PricerData build() {
      if (maxSequenceLength < maxContentTokens) {
        throw new IllegalArgumentException("maxSequenceLength (" + maxSequenceLength + ") must be at least maxContentTokens (" + maxContentTokens + ")");
      }
      return new PricerData(this);
    }
  }
}
