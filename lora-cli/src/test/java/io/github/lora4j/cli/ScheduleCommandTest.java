package io.github.lora4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.Schedules;
import io.github.lora4j.sched.WarmupStableDecaySchedule.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code lora4j schedule} run in-process, as a user would call it. */
class ScheduleCommandTest {

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    CommandLine commandLine = Lora4jCommand.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Run(exitCode, out.toString(), err.toString());
  }

  private static Stream<Arguments> schedulesAndTheirOptions() {
    return Stream.of(
        Arguments.of(
            Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03),
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "1000", "--warmup-ratio", "0.03")),
        Arguments.of(Schedules.constant(2e-4), List.of("--type", "constant", "--lr", "2e-4", "--steps", "20")),
        Arguments.of(
            Schedules.constantWithWarmup(2e-4, 5),
            List.of("--type", "constant_with_warmup", "--lr", "2e-4", "--steps", "20", "--warmup-steps", "5")),
        Arguments.of(
            Schedules.linear(3e-4, 50).withWarmupSteps(7),
            List.of("--type", "linear", "--lr", "3e-4", "--steps", "50", "--warmup-steps", "7")),
        Arguments.of(
            Schedules.cosine(3e-4, 50, 1.5).withWarmupSteps(7),
            List.of("--type", "cosine", "--lr", "3e-4", "--steps", "50", "--warmup-steps", "7", "--cycles", "1.5")),
        Arguments.of(
            Schedules.cosineWithRestarts(3e-4, 60, 3).withWarmupSteps(6),
            List.of("--type", "cosine_with_restarts", "--lr", "3e-4", "--steps", "60", "--warmup-steps", "6",
                "--cycles", "3")),
        Arguments.of(
            Schedules.polynomial(3e-4, 40, 1e-6, 2.0).withWarmupSteps(4),
            List.of("--type", "polynomial", "--lr", "3e-4", "--steps", "40", "--warmup-steps", "4", "--power", "2",
                "--end-lr", "1e-6")),
        Arguments.of(
            Schedules.inverseSqrt(3e-4, 25).withWarmupSteps(10),
            List.of("--type", "inverse_sqrt", "--lr", "3e-4", "--steps", "80", "--warmup-steps", "10",
                "--timescale", "25")),
        Arguments.of(
            Schedules.warmupStableDecay(3e-4, 100, 30)
                .withDecayType(Shape.ONE_MINUS_SQRT)
                .withWarmupType(Shape.COSINE)
                .withMinLrRatio(0.1)
                .withWarmupSteps(10),
            List.of("--type", "warmup_stable_decay", "--lr", "3e-4", "--steps", "100", "--warmup-ratio", "0.1",
                "--decay-steps", "30", "--decay-type", "1-sqrt", "--warmup-type", "cosine", "--min-lr-rate",
                "0.1")),
        Arguments.of(
            Schedules.cosineWithMinLr(3e-4, 100, 0.2),
            List.of("--type", "cosine_with_min_lr", "--lr", "3e-4", "--steps", "100", "--min-lr-rate", "0.2")));
  }

  @ParameterizedTest
  @MethodSource("schedulesAndTheirOptions")
  void csvHasOneFullPrecisionLinePerStepAndNothingElse(LearningRateSchedule expected, List<String> options) {
    long steps = Long.parseLong(options.get(options.indexOf("--steps") + 1));
    Run run = run(Stream.concat(Stream.of("schedule", "--csv"), options.stream()).toArray(String[]::new));

    assertEquals(0, run.exitCode(), run.err());
    assertEquals("", run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(steps + 2, lines.size(), "header and steps 0.." + steps);
    assertEquals("step,lr", lines.getFirst());
    for (int step = 0; step <= steps; step++) {
      assertEquals(step + "," + expected.learningRate(step), lines.get(step + 1), "line of step " + step);
    }
  }

  @Test
  void summaryNamesTheScheduleItsWarmupAndMilestones() {
    Run run = run("schedule", "--type", "cosine", "--lr", "1e-4", "--steps", "1000", "--warmup-ratio", "0.03");

    assertEquals(0, run.exitCode(), run.err());
    assertEquals("", run.err());
    String out = run.out();
    assertTrue(out.startsWith("cosine(lr=1.0E-4, totalSteps=1000, warmupSteps=30, cycles=0.5)\n"), out);
    assertTrue(out.contains("peak learning rate  1.0E-4\n"), out);
    assertTrue(out.contains("warmup steps        30 (3.00% of 1000)\n"), out);
    assertTrue(out.contains("        30  1.0E-4  (end of warmup)\n"), out);
    assertTrue(out.contains("       500  " + Schedules.cosine(1e-4, 1000).withWarmupSteps(30).learningRate(500)), out);
    assertTrue(out.contains("      1000  0.0  (totalSteps)\n"), out);
  }

  @Test
  void plotWritesAPngOfTheChartsSize(@TempDir Path dir) throws IOException {
    Path png = dir.resolve("schedule.png");
    Run run =
        run("schedule", "--type", "cosine", "--lr", "1e-4", "--steps", "1000", "--warmup-ratio", "0.03", "--plot",
            png.toString());

    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("plot written to " + png), run.out());
    BufferedImage image = ImageIO.read(png.toFile());
    assertNotNull(image, "ImageIO cannot read " + png);
    assertEquals(ScheduleChart.WIDTH, image.getWidth());
    assertEquals(ScheduleChart.HEIGHT, image.getHeight());
  }

  @Test
  void plotWithCsvKeepsStdoutToTheTable(@TempDir Path dir) throws IOException {
    Path png = dir.resolve("no-extension");
    Run run = run("schedule", "--type", "linear", "--lr", "1e-3", "--steps", "30000", "--csv", "--plot", png.toString());

    assertEquals(0, run.exitCode(), run.err());
    assertEquals(30_002, run.out().lines().count());
    assertNotNull(ImageIO.read(png.toFile()), "the plot is written to the name given, as PNG");
    assertTrue(Files.size(png) > 0);
  }

  @Test
  void helpDescribesTheOptions() {
    Run run = run("schedule", "--help");

    assertEquals(0, run.exitCode());
    assertTrue(run.out().startsWith("Usage: lora4j schedule"), run.out());
    assertTrue(run.out().contains("--warmup-ratio"), run.out());
    assertTrue(run.out().contains("cosine_with_restarts"), run.out());
  }

  private static Stream<Arguments> mistakesAndTheirOneLineErrors() {
    String known =
        "known: constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial, inverse_sqrt,"
            + " warmup_stable_decay, cosine_with_min_lr";
    return Stream.of(
        Arguments.of(
            List.of("--type", "cosin", "--lr", "1e-4", "--steps", "10"),
            "--type: unknown schedule type 'cosin'; " + known),
        Arguments.of(List.of("--type", "cosine", "--lr", "abc", "--steps", "10"), "--lr: 'abc' is not a double"),
        Arguments.of(List.of("--type", "cosine", "--lr", "1e-4", "--steps", "1.5"), "--steps: '1.5' is not a long"),
        Arguments.of(List.of("--type", "cosine", "--lr", "1e-4"), "Missing required option: '--steps=<n>'"),
        Arguments.of(
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--warmup-steps", "3", "--warmup-ratio", "0.1"),
            "--warmup-steps=<n>, --warmup-ratio=<r> are mutually exclusive (specify only one)"),
        Arguments.of(
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--warmup-ratio", "1.5"),
            "warmupRatio must be in [0, 1]: 1.5"),
        Arguments.of(
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--warmup-steps", "11"),
            "warmupSteps must be <= totalSteps (10): 11"),
        Arguments.of(List.of("--type", "cosine", "--lr", "-1e-4", "--steps", "10"), "learningRate must be finite and >= 0: -1.0E-4"),
        Arguments.of(List.of("--type", "cosine", "--lr", "1e-4", "--steps", "0"), "totalSteps must be > 0: 0"),
        Arguments.of(
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--power", "2"),
            "power does not apply to cosine; it applies to polynomial"),
        Arguments.of(
            List.of("--type", "warmup_stable_decay", "--lr", "1e-4", "--steps", "10"),
            "decaySteps is required for warmup_stable_decay"),
        Arguments.of(
            List.of("--type", "warmup_stable_decay", "--lr", "1e-4", "--steps", "10", "--decay-steps", "3",
                "--decay-type", "sqrt"),
            "decayType must be one of linear, cosine, 1-sqrt: 'sqrt'"),
        Arguments.of(
            List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--cycles", "0"),
            "cycles must be finite and > 0: 0.0"),
        Arguments.of(List.of("--type", "cosine", "--lr", "1e-4", "--steps", "10", "--bogus"), "Unknown option: '--bogus'"));
  }

  @ParameterizedTest
  @MethodSource("mistakesAndTheirOneLineErrors")
  void mistakesPrintOneLineAndExitTwo(List<String> options, String message) {
    Run run = run(Stream.concat(Stream.of("schedule"), options.stream()).toArray(String[]::new));

    assertEquals(2, run.exitCode(), run.err());
    assertEquals("", run.out());
    assertEquals("lora4j schedule: " + message + System.lineSeparator(), run.err());
  }

  @Test
  void anUnwritablePlotPrintsOneLineAndExitsOne(@TempDir Path dir) {
    Path png = dir.resolve("missing").resolve("schedule.png");
    Run run = run("schedule", "--type", "linear", "--lr", "1e-3", "--steps", "10", "--plot", png.toString());

    assertEquals(1, run.exitCode(), run.err());
    assertTrue(run.err().startsWith("lora4j schedule: cannot write the plot to " + png + ": "), run.err());
    assertEquals(1, run.err().lines().count(), run.err());
  }
}
