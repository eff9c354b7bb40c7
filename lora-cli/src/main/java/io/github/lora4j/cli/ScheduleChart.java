package io.github.lora4j.cli;

import io.github.lora4j.sched.LearningRateSchedule;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws a schedule as a PNG line chart, its warmup shaded, for {@code lora4j schedule --plot}. */
final class ScheduleChart {

  static final int WIDTH = 1000;
  static final int HEIGHT = 560;

  /** More points than this are thinned to every k-th step; a chart this wide cannot show more anyway. */
  private static final int MAX_POINTS = 20_000;

  /** About how many characters of the default title font fit across the chart. */
  private static final int TITLE_CHARACTERS = 105;

  private ScheduleChart() {}

  /** Writes the chart of steps 0 to {@code steps} to {@code file}, replacing it. */
  static void write(LearningRateSchedule schedule, long steps, Path file) throws IOException {
    // Servers and CI have no display; without this, AWT may look for one and fail.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    XYChart chart = chart(schedule, steps);
    // BitmapEncoder.saveBitmap(chart, String, ...) would append ".png" to a name without it; the stream
    // form writes exactly the file asked for.
    try (OutputStream out = Files.newOutputStream(file)) {
      BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      // NoSuchFileException and friends say only the path; say what failed too.
      throw new IOException("cannot write the plot to " + file + ": " + e, e);
    }
  }

  static XYChart chart(LearningRateSchedule schedule, long steps) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(schedule.toString())
            .xAxisTitle("step")
            .yAxisTitle("learning rate")
            .build();
    var styler = chart.getStyler();
    // The title is the schedule's one-line description; XChart does not wrap it, so a long one gets a
    // smaller font instead of being cut at the edges.
    Font title = styler.getChartTitleFont();
    int size = Math.clamp(title.getSize() * TITLE_CHARACTERS / Math.max(1, schedule.toString().length()), 9, title.getSize());
    styler.setChartTitleFont(title.deriveFont((float) size));
    styler.setLegendPosition(Styler.LegendPosition.InsideNE);
    styler.setXAxisMin(0.0);
    styler.setXAxisMax((double) Math.max(1, steps));
    styler.setYAxisMin(0.0);
    styler.setYAxisMax(schedule.peakLearningRate() * 1.05);
    styler.setYAxisDecimalPattern("0.0##E0");
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setPlotGridLinesColor(new Color(225, 225, 225));

    long warmup = Math.min(schedule.warmupSteps(), steps);
    if (warmup > 0) {
      // An area series drawn first, so that the schedule's line lies on top of the shading.
      double top = schedule.peakLearningRate() * 1.05;
      XYSeries shade =
          chart.addSeries("warmup (" + warmup + " steps)", new double[] {0, warmup}, new double[] {top, top});
      shade.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
      shade.setMarker(SeriesMarkers.NONE);
      shade.setFillColor(new Color(255, 170, 60, 70));
      shade.setLineColor(new Color(255, 170, 60));
    }

    long stride = Math.max(1, (steps + MAX_POINTS) / MAX_POINTS);
    int count = (int) (steps / stride) + 1;
    boolean endMissing = steps % stride != 0;
    double[] x = new double[count + (endMissing ? 1 : 0)];
    double[] y = new double[x.length];
    for (int i = 0; i < count; i++) {
      x[i] = i * stride;
      y[i] = schedule.learningRate(i * stride);
    }
    if (endMissing) {
      x[count] = steps;
      y[count] = schedule.learningRate(steps);
    }
    XYSeries rate = chart.addSeries("learning rate", x, y);
    rate.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    rate.setMarker(SeriesMarkers.NONE);
    rate.setLineColor(new Color(31, 90, 180));
    return chart;
  }
}
