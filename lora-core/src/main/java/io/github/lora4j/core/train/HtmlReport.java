package io.github.lora4j.core.train;

import io.github.lora4j.tensor.TempSiblings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * {@code report.html}: one self-contained page about a run, with inline SVG charts of the train
 * and validation loss (the best checkpoint marked), learning rate, gradient norm and throughput
 * over the steps, and a table of the run's settings. It loads nothing (no scripts, fonts, style
 * sheets or images from anywhere), so it opens the same from a laptop, a CI artifact or an email.
 * The markup is well-formed XML as well as HTML.
 */
final class HtmlReport {

  static final String FILE_NAME = "report.html";

  /** The best checkpoint: its step, its validation metric and its directory name. */
  record Best(long step, double metric, String checkpoint) {
    Best {
      Objects.requireNonNull(checkpoint, "checkpoint");
    }
  }

  /** One line of a chart: points (step, value); non-finite values break the line. */
  private record Series(String id, String label, String color, List<double[]> points, boolean markers) {}

  private static final String TRAIN = "#1f77b4";
  private static final String EVAL = "#ff7f0e";
  private static final String LR = "#2ca02c";
  private static final String GRAD = "#d62728";
  private static final String SPEED = "#9467bd";
  private static final String BEST = "#c48a00";

  // Chart geometry in SVG user units; the SVG scales to the page's width.
  private static final int W = 640;
  private static final int H = 300;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 34;
  private static final int BOTTOM = 44;

  private HtmlReport() {}

  /** Writes {@code dir/report.html} through a temporary file renamed into place. */
  static Path write(Path dir, String runName, List<StepMetrics> steps, Map<String, ?> settings, Best best)
      throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE_NAME);
    Path tmp = TempSiblings.file(dir, "." + FILE_NAME + ".", ".tmp");
    try {
      Files.writeString(tmp, render(runName, steps, settings, best), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return file;
  }

  /**
   * The page.
   *
   * @param runName the run, shown as the title
   * @param steps the logged steps, in step order
   * @param settings the run's settings, shown in the given order
   * @param best the best checkpoint, or null when there is none yet
   */
  static String render(String runName, List<StepMetrics> steps, Map<String, ?> settings, Best best) {
    var h = new StringBuilder(16_384);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>").append(esc(runName)).append(" · lora4j</title>\n")
        .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
        .append("<header><h1>").append(esc(runName)).append("</h1><p class=\"sub\">lora4j training report</p></header>\n");
    summary(h, steps, best);
    h.append("<main class=\"charts\">\n");
    var loss = new ArrayList<Series>();
    loss.add(series("train_loss", "train loss", TRAIN, steps, StepMetrics::loss, false));
    loss.add(evalSeries(steps));
    chart(h, "loss", "Loss", "wide", loss, best);
    chart(h, "learning_rate", "Learning rate", "",
        List.of(series("learning_rate", "learning rate", LR, steps, StepMetrics::learningRate, false)), null);
    chart(h, "grad_norm", "Gradient norm (before clipping)", "",
        List.of(series("grad_norm", "grad norm", GRAD, steps, StepMetrics::gradNorm, false)), null);
    if (steps.stream().anyMatch(m -> m.evalMetrics().containsKey(Evaluation.PRICE_MAE))) {
      chart(h, "price_error", "Price error on validation answers (MAE, $)", "",
          List.of(evalMetricSeries(steps, Evaluation.PRICE_MAE, "price MAE", EVAL)), null);
      chart(h, "price_hits", "Price hit rate (within $40 or 20%)", "",
          List.of(evalMetricSeries(steps, Evaluation.PRICE_HIT_RATE, "hit rate", TRAIN)), null);
    }
    chart(h, "throughput", "Throughput (tokens/s)", "wide",
        List.of(series("tokens_per_second", "tokens/s", SPEED, steps, StepMetrics::tokensPerSecond, false)), null);
    h.append("</main>\n");
    settingsTable(h, settings);
    h.append("</body>\n</html>\n");
    return h.toString();
  }

  private static void summary(StringBuilder h, List<StepMetrics> steps, Best best) {
    h.append("<section class=\"summary\">\n");
    if (steps.isEmpty()) {
      h.append("<p>No step logged yet.</p>\n</section>\n");
      return;
    }
    StepMetrics last = steps.getLast();
    long peak = steps.stream().mapToLong(StepMetrics::deviceBytes).max().orElse(0);
    double speed = steps.stream().mapToDouble(StepMetrics::tokensPerSecond).filter(v -> v > 0).average().orElse(0);
    h.append("<dl>\n");
    item(h, "step", Long.toString(last.step()));
    item(h, "epoch", String.format(Locale.ROOT, "%.2f", last.epoch()));
    item(h, "train loss", number(last.loss()));
    item(h, "best validation loss", best == null ? "–"
        : number(best.metric()) + " at step " + best.step() + " (" + best.checkpoint() + ")");
    steps.stream().filter(m -> m.evalMetrics().containsKey(Evaluation.PRICE_MAE)).reduce((a, b) -> b).ifPresent(m -> item(h, "latest price metrics",
        String.format(Locale.ROOT, "MAE $%.2f, RMSLE %.2f, hits %.1f%% (step %d)", m.evalMetrics().get(Evaluation.PRICE_MAE),
            m.evalMetrics().get(Evaluation.PRICE_RMSLE), 100 * m.evalMetrics().get(Evaluation.PRICE_HIT_RATE), m.step())));
    item(h, "mean throughput", String.format(Locale.ROOT, "%,.0f tokens/s", speed));
    item(h, "peak device memory", String.format(Locale.ROOT, "%.2f GiB", peak / (double) (1L << 30)));
    h.append("</dl>\n</section>\n");
  }

  private static void item(StringBuilder h, String term, String value) {
    h.append("<div><dt>").append(esc(term)).append("</dt><dd>").append(esc(value)).append("</dd></div>\n");
  }

  private static void settingsTable(StringBuilder h, Map<String, ?> settings) {
    h.append("<section class=\"settings\">\n<h2>Settings</h2>\n<table id=\"settings\">\n");
    settings.forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>")
        .append(esc(String.valueOf(v))).append("</td></tr>\n"));
    h.append("</table>\n</section>\n");
  }

  private static Series series(String id, String label, String color, List<StepMetrics> steps,
      ToDoubleFunction<StepMetrics> value, boolean markers) {
    var points = new ArrayList<double[]>();
    for (StepMetrics m : steps) {
      points.add(new double[] {m.step(), value.applyAsDouble(m)});
    }
    return new Series(id, label, color, points, markers);
  }

  private static Series evalMetricSeries(List<StepMetrics> steps, String metric, String label, String color) {
    var points = new ArrayList<double[]>();
    for (StepMetrics m : steps) {
      Double v = m.evalMetrics().get(metric);
      if (v != null) {
        points.add(new double[] {m.step(), v});
      }
    }
    return new Series(metric, label, color, points, true);
  }

  private static Series evalSeries(List<StepMetrics> steps) {
    var points = new ArrayList<double[]>();
    for (StepMetrics m : steps) {
      m.evalLoss().ifPresent(v -> points.add(new double[] {m.step(), v}));
    }
    return new Series("eval_loss", "validation loss", EVAL, points, true);
  }

  // ---- SVG ----

  private static void chart(StringBuilder h, String id, String title, String cssClass, List<Series> series, Best best) {
    int w = cssClass.equals("wide") ? 2 * W : W;
    h.append("<figure class=\"chart ").append(cssClass).append("\" id=\"chart-").append(id).append("\">\n")
        .append("<figcaption>").append(esc(title)).append("</figcaption>\n")
        .append("<svg viewBox=\"0 0 ").append(w).append(' ').append(H)
        .append("\" role=\"img\" aria-label=\"").append(esc(title)).append("\">\n");
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (Double.isFinite(p[1])) {
          xMin = Math.min(xMin, p[0]);
          xMax = Math.max(xMax, p[0]);
          yMin = Math.min(yMin, p[1]);
          yMax = Math.max(yMax, p[1]);
        }
      }
    }
    if (best != null && Double.isFinite(best.metric())) {
      xMin = Math.min(xMin, best.step());
      xMax = Math.max(xMax, best.step());
      yMin = Math.min(yMin, best.metric());
      yMax = Math.max(yMax, best.metric());
    }
    if (id.equals("throughput") && yMin > 0) {
      yMin = 0; // from zero, so that noise does not look like a slowdown
    }
    if (xMin > xMax) {
      h.append("<text class=\"empty\" x=\"").append(w / 2).append("\" y=\"").append(H / 2)
          .append("\" text-anchor=\"middle\">no data yet</text>\n");
      legend(h, series);
      h.append("</svg>\n</figure>\n");
      return;
    }
    Axis x = Axis.of(xMin, xMax, w > W ? 11 : 6);
    if (x.step() < 1) {
      // Steps are whole numbers: no tick between two of them.
      x = new Axis(Math.floor(x.min()), Math.ceil(x.max()), 1);
    }
    Axis y = Axis.of(yMin, yMax, 5);
    var plot = new Plot(x, y, w);
    grid(h, plot);
    for (Series s : series) {
      line(h, plot, s);
    }
    if (best != null && Double.isFinite(best.metric())) {
      double bx = plot.px(best.step());
      double by = plot.py(best.metric());
      h.append("<g class=\"best\" data-step=\"").append(best.step()).append("\">\n")
          .append("<line x1=\"").append(f(bx)).append("\" y1=\"").append(TOP).append("\" x2=\"").append(f(bx))
          .append("\" y2=\"").append(H - BOTTOM).append("\" stroke=\"").append(BEST)
          .append("\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n")
          .append("<path d=\"").append(star(bx, by, 8)).append("\" fill=\"").append(BEST)
          .append("\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n")
          .append("<text x=\"").append(f(Math.min(bx + 6, w - RIGHT - 4))).append("\" y=\"").append(TOP + 12)
          .append("\" text-anchor=\"").append(bx > w - 260 ? "end" : "start").append("\" class=\"best-label\">")
          .append(esc("best: " + best.checkpoint() + " (" + number(best.metric()) + ")")).append("</text>\n")
          .append("</g>\n");
    }
    legend(h, series);
    h.append("</svg>\n</figure>\n");
  }

  private static void grid(StringBuilder h, Plot p) {
    h.append("<g class=\"axes\">\n");
    for (double t : p.y().ticks()) {
      double py = p.py(t);
      h.append("<line x1=\"").append(LEFT).append("\" y1=\"").append(f(py)).append("\" x2=\"").append(p.w() - RIGHT)
          .append("\" y2=\"").append(f(py)).append("\" class=\"grid\"/>\n")
          .append("<text x=\"").append(LEFT - 6).append("\" y=\"").append(f(py + 4))
          .append("\" text-anchor=\"end\">").append(esc(p.y().label(t))).append("</text>\n");
    }
    for (double t : p.x().ticks()) {
      double px = p.px(t);
      h.append("<line x1=\"").append(f(px)).append("\" y1=\"").append(TOP).append("\" x2=\"").append(f(px))
          .append("\" y2=\"").append(H - BOTTOM).append("\" class=\"grid\"/>\n")
          .append("<text x=\"").append(f(px)).append("\" y=\"").append(H - BOTTOM + 16)
          .append("\" text-anchor=\"middle\">").append(esc(p.x().label(t))).append("</text>\n");
    }
    h.append("<rect x=\"").append(LEFT).append("\" y=\"").append(TOP).append("\" width=\"").append(p.w() - LEFT - RIGHT)
        .append("\" height=\"").append(H - TOP - BOTTOM).append("\" class=\"frame\"/>\n")
        .append("<text x=\"").append((LEFT + p.w() - RIGHT) / 2).append("\" y=\"").append(H - 8)
        .append("\" text-anchor=\"middle\" class=\"axis-title\">step</text>\n</g>\n");
  }

  private static void line(StringBuilder h, Plot p, Series s) {
    h.append("<g class=\"series\" data-series=\"").append(s.id()).append("\" data-points=\"")
        .append(s.points().stream().filter(q -> Double.isFinite(q[1])).count()).append("\">\n");
    var run = new StringBuilder();
    for (double[] q : s.points()) {
      if (!Double.isFinite(q[1])) {
        polyline(h, s, run);
        run.setLength(0);
        continue;
      }
      if (!run.isEmpty()) {
        run.append(' ');
      }
      run.append(f(p.px(q[0]))).append(',').append(f(p.py(q[1])));
    }
    polyline(h, s, run);
    if (s.markers()) {
      for (double[] q : s.points()) {
        if (Double.isFinite(q[1])) {
          h.append("<circle cx=\"").append(f(p.px(q[0]))).append("\" cy=\"").append(f(p.py(q[1])))
              .append("\" r=\"3.5\" fill=\"").append(s.color()).append("\"/>\n");
        }
      }
    }
    h.append("</g>\n");
  }

  private static void polyline(StringBuilder h, Series s, CharSequence points) {
    if (!points.isEmpty()) {
      h.append("<polyline fill=\"none\" stroke=\"").append(s.color()).append("\" stroke-width=\"2\" ")
          .append("stroke-linejoin=\"round\" points=\"").append(points).append("\"/>\n");
    }
  }

  private static void legend(StringBuilder h, List<Series> series) {
    h.append("<g class=\"legend\">\n");
    double x = LEFT;
    for (Series s : series) {
      h.append("<rect x=\"").append(f(x)).append("\" y=\"10\" width=\"12\" height=\"12\" fill=\"").append(s.color())
          .append("\"/>\n<text x=\"").append(f(x + 17)).append("\" y=\"20\">").append(esc(s.label()))
          .append(s.points().isEmpty() ? " (none yet)" : "").append("</text>\n");
      x += 30 + 7.2 * (s.label().length() + (s.points().isEmpty() ? 11 : 0));
    }
    h.append("</g>\n");
  }

  private static String star(double cx, double cy, double r) {
    var d = new StringBuilder("M");
    for (int i = 0; i < 10; i++) {
      double a = Math.PI / 2 + i * Math.PI / 5;
      double rr = i % 2 == 0 ? r : r * 0.45;
      d.append(i == 0 ? "" : " L").append(f(cx + rr * Math.cos(a))).append(',').append(f(cy - rr * Math.sin(a)));
    }
    return d.append(" Z").toString();
  }

  /** Maps data to SVG coordinates inside the frame. */
  private record Plot(Axis x, Axis y, int w) {
    double px(double v) {
      return LEFT + (v - x.min()) / (x.max() - x.min()) * (w - LEFT - RIGHT);
    }

    double py(double v) {
      return H - BOTTOM - (v - y.min()) / (y.max() - y.min()) * (H - TOP - BOTTOM);
    }
  }

  /** An axis with "nice" tick values (1, 2 or 5 times a power of ten) covering [min, max]. */
  record Axis(double min, double max, double step) {

    static Axis of(double lo, double hi, int ticks) {
      if (hi == lo) {
        double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
        lo -= pad;
        hi += pad;
      }
      double step = nice((hi - lo) / (ticks - 1));
      return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
    }

    private static double nice(double raw) {
      double mag = Math.pow(10, Math.floor(Math.log10(raw)));
      double f = raw / mag;
      return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    }

    List<Double> ticks() {
      var out = new ArrayList<Double>();
      int n = (int) Math.round((max - min) / step);
      for (int i = 0; i <= n; i++) {
        out.add(min + i * step);
      }
      return out;
    }

    String label(double v) {
      if (Math.abs(v) < step * 1e-6) {
        return "0";
      }
      double big = Math.max(Math.abs(min), Math.abs(max));
      if (big >= 1e5 || big < 1e-2) {
        return String.format(Locale.ROOT, "%.1e", v);
      }
      int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
      return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
  }

  private static String number(double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 || v == 0
        ? String.format(Locale.ROOT, "%.4f", v) : String.format(Locale.ROOT, "%.3e", v);
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /** Escapes text for both HTML and XML. */
  static String esc(String s) {
    var b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          // XML 1.0 forbids most control characters even as references.
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            b.append('\uFFFD');
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }

  private static final String CSS = """
      :root { color-scheme: light; }
      body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
             margin: 0 auto; max-width: 1240px; padding: 16px 24px 40px; color: #1d2430; background: #ffffff; }
      header h1 { margin: 0; font-size: 1.5rem; word-break: break-all; }
      header .sub { margin: 2px 0 16px; color: #5b6573; }
      .summary dl { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 16px; }
      .summary dl div { border: 1px solid #dde2e8; border-radius: 6px; padding: 8px 12px; min-width: 140px; }
      .summary dt { font-size: 0.75rem; color: #5b6573; text-transform: uppercase; letter-spacing: 0.04em; }
      .summary dd { margin: 2px 0 0; font-size: 1.05rem; font-variant-numeric: tabular-nums; }
      .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
      .chart { margin: 0; border: 1px solid #dde2e8; border-radius: 6px; padding: 8px 10px 4px; }
      .chart.wide { grid-column: 1 / -1; }
      .chart figcaption { font-weight: 600; margin-bottom: 2px; }
      .chart svg { width: 100%; height: auto; display: block; font-size: 11px; fill: #3b4452; }
      .chart .grid { stroke: #e8ebef; stroke-width: 1; }
      .chart .frame { fill: none; stroke: #b8c0ca; stroke-width: 1; }
      .chart .axis-title { font-size: 12px; }
      .chart .empty { font-size: 14px; fill: #8a94a3; }
      .chart .best-label { fill: #8a6200; font-weight: 600; }
      .settings h2 { font-size: 1.1rem; margin: 24px 0 8px; }
      .settings table { border-collapse: collapse; font-size: 0.9rem; }
      .settings th, .settings td { text-align: left; padding: 4px 16px 4px 0; border-bottom: 1px solid #eef0f3;
             vertical-align: top; }
      .settings th { font-weight: 600; white-space: nowrap; }
      .settings td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
      """;
}
