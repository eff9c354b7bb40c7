package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

class HtmlReportTest {

  @TempDir Path dir;

  /** A plausible run: 300 steps logged every 10, evaluated every 50, cosine schedule with warmup. */
  static List<StepMetrics> run() {
    var r = new Random(7);
    var out = new ArrayList<StepMetrics>();
    for (int step = 10; step <= 300; step += 10) {
      double lr = step < 30 ? 2e-4 * step / 30 : 2e-4 * 0.5 * (1 + Math.cos(Math.PI * (step - 30) / 270.0));
      double loss = 1.2 + 1.8 * Math.exp(-step / 80.0) + 0.08 * r.nextGaussian();
      var m = new StepMetrics(step, step / 120.0, loss, lr, 0.6 + 0.4 * Math.exp(-step / 60.0) + 0.05 * r.nextDouble(),
          5200 + 300 * r.nextGaussian(), (long) (1.6e9 + 2e7 * step));
      if (step % 50 == 0) {
        double eval = step <= 200 ? 1.45 + 1.5 * Math.exp(-step / 70.0) : 1.52 + (step - 200) / 1000.0;
        m = m.withEval(Map.of("eval_loss", eval));
      }
      out.add(m);
    }
    return out;
  }

  static Map<String, Object> settings() {
    var s = new LinkedHashMap<String, Object>();
    s.put("baseModel", "/models/Llama-3.2-1B");
    s.put("loraR", 32);
    s.put("loraAlpha", 64.0);
    s.put("targetModules", List.of("q_proj", "k_proj", "v_proj", "o_proj"));
    s.put("learningRate", 2e-4);
    s.put("schedule", "cosine");
    s.put("note", "<b>&\"quoted\"</b>");
    return s;
  }

  static HtmlReport.Best best(List<StepMetrics> steps) {
    StepMetrics b = steps.stream().filter(StepMetrics::hasEval)
        .min((x, y) -> Double.compare(x.evalLoss().getAsDouble(), y.evalLoss().getAsDouble())).orElseThrow();
    return new HtmlReport.Best(b.step(), b.evalLoss().getAsDouble(), "checkpoint-" + b.step());
  }

  static Document parse(String xml) throws Exception {
    var f = DocumentBuilderFactory.newInstance();
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    f.setExpandEntityReferences(false);
    return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
  }

  private static Element series(Document d, String id) {
    NodeList gs = d.getElementsByTagName("g");
    for (int i = 0; i < gs.getLength(); i++) {
      var g = (Element) gs.item(i);
      if (id.equals(g.getAttribute("data-series"))) {
        return g;
      }
    }
    throw new AssertionError("no series " + id);
  }

  @Test
  void isWellFormedAndHoldsEverySeries() throws Exception {
    List<StepMetrics> steps = run();
    String html = HtmlReport.render("pricer-2026-01-02_03.04.05", steps, settings(), best(steps));
    Document d = parse(html);
    assertEquals("html", d.getDocumentElement().getTagName());
    assertEquals(4, d.getElementsByTagName("svg").getLength(), "loss, lr, grad norm, throughput");
    for (String id : List.of("train_loss", "learning_rate", "grad_norm", "tokens_per_second")) {
      Element g = series(d, id);
      assertEquals("30", g.getAttribute("data-points"), id);
      assertTrue(g.getElementsByTagName("polyline").getLength() >= 1, id);
      String points = ((Element) g.getElementsByTagName("polyline").item(0)).getAttribute("points");
      assertEquals(30, points.split(" ").length, id);
    }
    Element eval = series(d, "eval_loss");
    assertEquals("6", eval.getAttribute("data-points"));
    assertEquals(6, eval.getElementsByTagName("circle").getLength(), "validation points are marked");
  }

  @Test
  void marksTheBestCheckpointOnTheLossChart() throws Exception {
    List<StepMetrics> steps = run();
    String html = HtmlReport.render("r", steps, settings(), best(steps));
    Document d = parse(html);
    Element lossChart = d.getElementById("chart-loss");
    if (lossChart == null) {
      NodeList figures = d.getElementsByTagName("figure");
      for (int i = 0; i < figures.getLength(); i++) {
        if (((Element) figures.item(i)).getAttribute("id").equals("chart-loss")) {
          lossChart = (Element) figures.item(i);
        }
      }
    }
    NodeList groups = lossChart.getElementsByTagName("g");
    Element bestMark = null;
    for (int i = 0; i < groups.getLength(); i++) {
      if (((Element) groups.item(i)).getAttribute("class").equals("best")) {
        bestMark = (Element) groups.item(i);
      }
    }
    assertTrue(bestMark != null, "a best marker in the loss chart");
    assertEquals("200", bestMark.getAttribute("data-step"));
    assertTrue(bestMark.getTextContent().contains("best: checkpoint-200"), bestMark.getTextContent());
    assertEquals(1, html.split("class=\"best\"", -1).length - 1, "only the loss chart marks it");
  }

  @Test
  void loadsNothingFromOutside() {
    List<StepMetrics> steps = run();
    String html = HtmlReport.render("r", steps, settings(), best(steps)).toLowerCase(Locale.ROOT);
    for (String forbidden : List.of("http:", "https:", "//", "<script", "<link", "<img", "<iframe", "@import",
        "url(", "src=", "href=")) {
      assertFalse(html.contains(forbidden), "the report contains " + forbidden);
    }
  }

  @Test
  void settingsAreShownInOrderAndEscaped() throws Exception {
    String html = HtmlReport.render("a<b & c", run(), settings(), null);
    Document d = parse(html);
    NodeList rows = d.getElementsByTagName("tr");
    assertEquals(7, rows.getLength());
    assertEquals("baseModel", ((Element) rows.item(0)).getElementsByTagName("th").item(0).getTextContent());
    assertEquals("<b>&\"quoted\"</b>", ((Element) rows.item(6)).getElementsByTagName("td").item(0).getTextContent());
    assertEquals("[q_proj, k_proj, v_proj, o_proj]",
        ((Element) rows.item(3)).getElementsByTagName("td").item(0).getTextContent());
    assertEquals("a<b & c · lora4j", d.getElementsByTagName("title").item(0).getTextContent());
  }

  @Test
  void aDivergedStepBreaksTheLineInsteadOfBreakingThePage() throws Exception {
    var steps = new ArrayList<>(run().subList(0, 10));
    steps.set(5, new StepMetrics(60, 0.5, Double.NaN, 1e-4, Double.POSITIVE_INFINITY, 100, 0));
    Document d = parse(HtmlReport.render("r", steps, Map.of(), null));
    Element loss = series(d, "train_loss");
    assertEquals("9", loss.getAttribute("data-points"));
    assertEquals(2, loss.getElementsByTagName("polyline").getLength(), "two pieces, around the NaN");
  }

  @Test
  void anEmptyRunRendersPlaceholders() throws Exception {
    Document d = parse(HtmlReport.render("r", List.of(), Map.of(), null));
    assertTrue(d.getDocumentElement().getTextContent().contains("no data yet"));
    var one = List.of(new StepMetrics(1, 0, 2, 1e-4, 1, 10, 0));
    parse(HtmlReport.render("r", one, Map.of(), null)); // one point: a flat range is padded, not divided by zero
    assertFalse(HtmlReport.render("r", one, Map.of(), null).contains("NaN"));
  }

  @Test
  void writeReplacesTheFileWhole() throws IOException {
    List<StepMetrics> steps = run();
    Path file = HtmlReport.write(dir, "r", steps.subList(0, 3), settings(), null);
    HtmlReport.write(dir, "r", steps, settings(), best(steps));
    assertEquals(List.of(file), Files.list(dir).toList());
    assertTrue(Files.readString(file).contains("checkpoint-200"));
    // Leave a copy for a look in a browser: target/report-sample.html.
    Path sample = Path.of("target", "report-sample.html");
    if (Files.isDirectory(sample.getParent())) {
      Files.copy(file, sample, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  @Test
  void axisTicksAreRoundNumbersCoveringTheRange() {
    var a = HtmlReport.Axis.of(0.37, 2.91, 5);
    assertEquals(1.0, a.step(), "0.635 per tick rounds up to 1");
    assertEquals(0.0, a.min());
    assertEquals(3.0, a.max());
    var lr = HtmlReport.Axis.of(0, 2e-4, 5);
    assertEquals("2.0e-04", lr.label(2e-4));
    assertTrue(Pattern.matches("\\d+", HtmlReport.Axis.of(10, 300, 6).label(100)));
  }
}
