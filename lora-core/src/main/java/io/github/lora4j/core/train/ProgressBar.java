package io.github.lora4j.core.train;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;
import java.util.function.Consumer;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's view of training: on a terminal, a progress bar (me.tongfei:progressbar) with
 * step/total, elapsed time and ETA, followed by epoch, loss, learning rate and tokens/s; when
 * standard output is not a terminal (a log file, CI, a notebook), one plain log line per logged
 * step instead, since a redrawn bar would fill the file with carriage returns.
 *
 * <p>The trainer calls {@link #step} after every optimizer step and {@link #log} at each logged
 * step; both are cheap on the training thread (the bar redraws itself from its own thread).
 */
final class ProgressBar implements MetricsSink {

  private static final Logger LOG = LoggerFactory.getLogger(ProgressBar.class);

  private final long total;
  private final long firstStep;
  private final me.tongfei.progressbar.ProgressBar bar;
  private final Consumer<String> lines;
  private final InstantSource clock;
  private final Instant start;

  private ProgressBar(long total, long firstStep, me.tongfei.progressbar.ProgressBar bar, Consumer<String> lines,
      InstantSource clock) {
    this.total = total;
    this.firstStep = firstStep;
    this.bar = bar;
    this.lines = lines;
    this.clock = clock;
    this.start = clock.instant();
  }

  /**
   * A progress display for a run of {@code totalSteps} starting after {@code firstStep} (0, or the
   * resumed checkpoint's step), on standard output: a bar when the JVM runs in a terminal ({@link
   * java.io.Console#isTerminal()}: standard input and output both are one), log lines when not.
   *
   * @param elapsedBefore the training time before a resume, for the bar's elapsed time
   */
  static ProgressBar start(long totalSteps, long firstStep, Duration elapsedBefore) {
    var console = System.console();
    boolean terminal = console != null && console.isTerminal();
    if (!terminal) {
      LOG.info("standard output is not a terminal: progress is logged as one line per logged step instead of a bar");
      return lines(totalSteps, firstStep, LOG::info, InstantSource.system());
    }
    return bar(totalSteps, firstStep, elapsedBefore, new ConsoleProgressBarConsumer(System.out));
  }

  /** The bar, drawn by {@code consumer}. */
  static ProgressBar bar(long totalSteps, long firstStep, Duration elapsedBefore, ConsoleProgressBarConsumer consumer) {
    check(totalSteps, firstStep);
    var bar = new ProgressBarBuilder()
        .setTaskName("train")
        .setInitialMax(totalSteps)
        .startsFrom(firstStep, elapsedBefore)
        .setStyle(ProgressBarStyle.UNICODE_BLOCK)
        .setUpdateIntervalMillis(500)
        .setConsumer(consumer)
        .build();
    return new ProgressBar(totalSteps, firstStep, bar, null, InstantSource.system());
  }

  /** Plain lines, one per logged step, handed to {@code lines}. */
  static ProgressBar lines(long totalSteps, long firstStep, Consumer<String> lines, InstantSource clock) {
    check(totalSteps, firstStep);
    return new ProgressBar(totalSteps, firstStep, null, lines, clock);
  }

  private static void check(long totalSteps, long firstStep) {
    if (totalSteps <= 0 || firstStep < 0 || firstStep > totalSteps) {
      throw new IllegalArgumentException("need 0 <= firstStep <= totalSteps and totalSteps > 0: firstStep "
          + firstStep + ", totalSteps " + totalSteps);
    }
  }

  /** After every optimizer step. */
  void step(long step) {
    if (bar != null) {
      bar.stepTo(step);
    }
  }

  @Override
  public void log(StepMetrics m) {
    if (bar != null) {
      bar.stepTo(m.step());
      bar.setExtraMessage(message(m));
      return;
    }
    long done = m.step() - firstStep;
    String eta = "?";
    if (done > 0) {
      Duration elapsed = Duration.between(start, clock.instant());
      eta = duration(elapsed.multipliedBy(total - m.step()).dividedBy(done));
    }
    lines.accept(String.format(Locale.ROOT, "step %d/%d (%.0f%%) %s ETA %s", m.step(), total,
        100.0 * m.step() / total, message(m), eta));
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }

  /** What follows the bar: epoch, loss, lr, tokens/s, and the validation loss (and price metrics) when there is one. */
  static String message(StepMetrics m) {
    var s = new StringBuilder(String.format(Locale.ROOT, "epoch %.2f loss %.4f lr %.2e %,.0f tokens/s",
        m.epoch(), m.loss(), m.learningRate(), m.tokensPerSecond()));
    m.evalLoss().ifPresent(v -> s.append(String.format(Locale.ROOT, " eval_loss %.4f", v)));
    Double mae = m.evalMetrics().get(Evaluation.PRICE_MAE);
    Double hits = m.evalMetrics().get(Evaluation.PRICE_HIT_RATE);
    if (mae != null && hits != null) {
      s.append(String.format(Locale.ROOT, " price MAE $%.2f hits %.0f%%", mae, 100 * hits));
    }
    return s.toString();
  }

  /** 45s, 2m05s, 1h02m03s. */
  static String duration(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60);
  }
}
