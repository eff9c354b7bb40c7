package io.github.lora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.github.lora4j.core.lora.LoraConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lora4j train} from the command line: the preset end to end, dry runs, and refusals. */
class TrainCommandTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var cli = Lora4jCommand.newCommandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void thePresetPreparesTrainsAndWritesTheAdapterAndReport() throws IOException {
    Path out = dir.resolve("demo");
    Result r = run("train", "--preset", "pricer-demo", "--output-dir", out.toString(), "--max-steps", "200", "--log-every", "25",
        "--eval-every", "100", "--save-every", "200", "--run-name", "e2e");
    assertEquals(0, r.code, r.out + r.err);
    Path run = out.resolve("e2e");
    assertTrue(Files.isRegularFile(out.resolve("model/model.safetensors")) && Files.isRegularFile(out.resolve("data/eval.jsonl")), r.out);
    assertTrue(Files.isRegularFile(run.resolve("adapter").resolve(LoraConfig.ADAPTER_WEIGHTS_FILE)), r.out);
    assertTrue(Files.isRegularFile(run.resolve("adapter").resolve(LoraConfig.ADAPTER_CONFIG_FILE)), r.out);
    assertTrue(Files.size(run.resolve("report.html")) > 1000, "report.html is written");
    List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertEquals(8, metrics.size(), "a line every 25 of 200 steps");
    double first = loss(metrics.getFirst());
    double last = loss(metrics.getLast());
    assertTrue(last < 0.5 * first, "the training loss should fall by more than half: " + first + " -> " + last);
    assertTrue(r.out.contains("adapter:     " + run.resolve("adapter")), r.out);
    assertTrue(r.out.lines().anyMatch(l -> l.startsWith("train loss:  ") && l.contains(" (step 25) -> ") && l.endsWith("(step 200)")), r.out);
    assertTrue(r.out.contains("on q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"), "the preset adapts every linear module: " + r.out);
    // The price metrics on the 200 validation listings, from greedy answers, must improve with training.
    double[] before = prices(r.out, "price before: ");
    double[] after = prices(r.out, "price after:  ");
    assertTrue(after[0] < before[0] && after[1] < before[1] && after[2] > before[2],
        "MAE, RMSLE and hit rate should all improve: before " + java.util.Arrays.toString(before) + ", after " + java.util.Arrays.toString(after));
    assertTrue(metrics.getLast().contains("\"eval_price_mae\""), "evaluation logs the price metrics: " + metrics.getLast());
    assertTrue(Files.readString(run.resolve("report.html")).contains("chart-price_error"), "the report charts the price error");
    assertEquals(201, Files.readAllLines(run.resolve("price-predictions.csv")).size(), "a header and 200 guesses");
  }

  private static final java.util.regex.Pattern PRICES = java.util.regex.Pattern.compile("MAE \\$([0-9.]+), RMSLE ([0-9.]+), hits ([0-9.]+)%");

  /** {MAE, RMSLE, hit rate %} from the line starting with {@code prefix}. */
  private static double[] prices(String out, String prefix) {
    String line = out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError("no '" + prefix + "' line in:\n" + out));
    java.util.regex.Matcher m = PRICES.matcher(line);
    if (!m.find()) {
      throw new AssertionError("unreadable price metrics: " + line);
    }
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))};
  }

  @Test
  void withItsOwnModelThePresetRunsTheCourseSettings() throws IOException {
    Path model = io.github.lora4j.core.demo.PricerDemo.builder().build().writeModel(dir.resolve("own-model"));
    Path data = Files.writeString(dir.resolve("train.jsonl"), "{\"prompt\": \"p\", \"completion\": \"c\"}\n");
    Result r = run("train", "--preset", "pricer-demo", "--model", model.toString(), "--data", data.toString(), "--output-dir", dir.resolve("out").toString(),
        "--dry-run");
    assertEquals(0, r.code, r.out + r.err);
    assertTrue(r.out.contains("LoRA r=32 alpha=64 dropout 0.1 on q_proj,k_proj,v_proj,o_proj; 1 epochs, batch 16 x 1, lr 1.0e-4 cosine, warmup ratio 0.03,"
        + " paged_adamw_32bit, max length 182"), r.out);
  }

  @Test
  void aDryRunPrintsTheSettingsAndWritesNothing() throws IOException {
    Path model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{}");
    Path data = Files.writeString(dir.resolve("train.jsonl"), "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
    Path config = Files.writeString(dir.resolve("run.yaml"), "r: 32\nlora_alpha: 64\nlr_scheduler_type: cosine\nwarmup_ratio: 0.03\n");
    Result r = run("train", "--config", config.toString(), "--model", model.toString(), "--data", data.toString(), "--lr", "1e-4",
        "--output-dir", dir.resolve("out").toString(), "--dry-run");
    assertEquals(0, r.code, r.err);
    assertTrue(r.out.contains("LoRA r=32 alpha=64 dropout 0 on q_proj,v_proj; 3 epochs, batch 8 x 1, lr 1.0e-4 cosine, warmup ratio 0.03"), r.out);
    assertFalse(Files.exists(dir.resolve("out")));
  }

  @Test
  void badSettingsExitWithStatus2BeforeThePresetWritesAnything() {
    Path out = dir.resolve("demo");
    Result r = run("train", "--preset", "pricer-demo", "--output-dir", out.toString(), "--lora-r", "-1", "--lora-dropout", "2");
    assertEquals(2, r.code, r.out + r.err);
    assertEquals(List.of("lora4j train: 2 problems with the settings:", "  --lora-r: loraR must be positive: -1",
        "  --lora-dropout: loraDropout must be in [0, 1): 2.0"), r.err.lines().toList());
    assertFalse(Files.exists(out), "nothing is written");
  }

  @Test
  void aBadConfigFileIsOneLineNamingFileKeyAndValue() throws IOException {
    Path config = Files.writeString(dir.resolve("run.yaml"), "lora_r: 32\nnum_train_epochs: one\n");
    Result r = run("train", "--preset", "pricer-demo", "--output-dir", dir.resolve("demo").toString(), "--config", config.toString());
    assertEquals(2, r.code, r.out + r.err);
    assertEquals(List.of("lora4j train: " + config + ":2: num_train_epochs: must be a number, not 'one'"), r.err.lines().toList());
    assertFalse(Files.exists(dir.resolve("demo")));
  }

  @Test
  void anUnknownPresetOrAMissingConfigIsRefused() {
    Result r = run("train", "--preset", "gpt-5");
    assertEquals(2, r.code);
    assertEquals("lora4j train: --preset gpt-5: no such preset; presets: pricer-demo", r.err.strip());
    r = run("train", "--config", dir.resolve("missing.yaml").toString());
    assertEquals(2, r.code);
    assertEquals("lora4j train: " + dir.resolve("missing.yaml") + ": no such file", r.err.strip());
  }

  @Test
  void withoutModelOrDataEveryMissingSettingIsListed() {
    Result r = run("train", "--lora-r", "16");
    assertEquals(2, r.code);
    assertEquals(List.of("lora4j train: 2 problems with the settings:", "  baseModel is required: a Hugging Face model directory",
        "  trainData is required: a JSONL, CSV or Parquet file"), r.err.lines().toList());
  }

  @Test
  void theHelpListsAFlagForEverySetting() {
    Result r = run("train", "--help");
    assertEquals(0, r.code, r.err);
    for (TrainSetting s : TrainSetting.values()) {
      assertTrue(r.out.contains(s.flags().getFirst()), s + " has no flag in:\n" + r.out);
    }
  }

  private static double loss(String line) {
    return JsonParser.parseString(line).getAsJsonObject().get("loss").getAsDouble();
  }
}
