package io.github.lora4j.cli;

import io.github.lora4j.sched.FiniteSchedule;
import io.github.lora4j.sched.LearningRateSchedule;
import io.github.lora4j.sched.ScheduleBuilder;
import io.github.lora4j.sched.ScheduleType;
import io.github.lora4j.sched.Schedules;
import io.github.lora4j.sched.WarmupStableDecaySchedule;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code lora4j schedule}: prints a learning-rate schedule as transformers' Trainer would run it, as a
 * summary or a CSV table, and plots it.
 */
@Command(
    name = "schedule",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Print or plot a learning-rate schedule with the semantics of transformers' lr_scheduler_type.",
      "Step k is the update that follows k completed updates; the table covers steps 0 to --steps."
    },
    footer = {
      "",
      "Example:",
      "  lora4j schedule --type cosine --lr 1e-4 --steps 1000 --warmup-ratio 0.03 --plot schedule.png"
    })
final class ScheduleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--type",
      required = true,
      paramLabel = "<type>",
      converter = TypeConverter.class,
      completionCandidates = TypeNames.class,
      description = "transformers' lr_scheduler_type: ${COMPLETION-CANDIDATES}.")
  ScheduleType type;

  @Option(names = "--lr", required = true, paramLabel = "<lr>", description = "Peak learning rate (learning_rate).")
  double learningRate;

  @Option(
      names = "--steps",
      required = true,
      paramLabel = "<n>",
      description = "Optimizer updates in the run (num_training_steps).")
  long steps;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Warmup warmup;

  /** The two ways to give warmup; transformers 5 folds both into warmup_steps. */
  static final class Warmup {
    @Option(names = "--warmup-steps", paramLabel = "<n>", description = "Warmup updates (warmup_steps).")
    Long steps;

    @Option(
        names = "--warmup-ratio",
        paramLabel = "<r>",
        description = "Warmup as a fraction of --steps, rounded up (warmup_ratio).")
    Double ratio;
  }

  @Option(
      names = "--cycles",
      paramLabel = "<c>",
      description = "num_cycles: cosine waves (default 0.5), or restarts of cosine_with_restarts (default 1).")
  Double cycles;

  @Option(names = "--power", paramLabel = "<p>", description = "polynomial: power of the decay (default 1.0).")
  Double power;

  @Option(names = "--end-lr", paramLabel = "<lr>", description = "polynomial: final learning rate, lr_end (default 1e-7).")
  Double endLearningRate;

  @Option(names = "--decay-steps", paramLabel = "<n>", description = "warmup_stable_decay: num_decay_steps (required).")
  Long decaySteps;

  @Option(
      names = "--decay-type",
      paramLabel = "<shape>",
      description = "warmup_stable_decay: linear, cosine (default) or 1-sqrt.")
  String decayType;

  @Option(
      names = "--warmup-type",
      paramLabel = "<shape>",
      description = "warmup_stable_decay: linear (default), cosine or 1-sqrt.")
  String warmupType;

  @Option(
      names = "--min-lr-rate",
      paramLabel = "<m>",
      description = "Lowest rate as a fraction of --lr: min_lr_rate of cosine_with_min_lr, min_lr_ratio of"
          + " warmup_stable_decay.")
  Double minLrRate;

  @Option(
      names = "--timescale",
      paramLabel = "<n>",
      description = "inverse_sqrt: timescale (default the warmup steps, or 10000).")
  Long timescale;

  @Option(names = "--csv", description = "Print 'step,lr' and one line per step, nothing else.")
  boolean csv;

  @Option(names = "--plot", paramLabel = "<file.png>", description = "Write a PNG chart of the schedule.")
  Path plot;

  @Override
  public Integer call() throws IOException {
    LearningRateSchedule schedule = schedule();
    if (plot != null) {
      ScheduleChart.write(schedule, steps, plot);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (csv) {
      printCsv(schedule, out);
    } else {
      printSummary(schedule, out);
    }
    out.flush();
    return 0;
  }

  /** The schedule the options describe; lora-sched refuses what does not fit, naming the parameter. */
  LearningRateSchedule schedule() {
    ScheduleBuilder builder = Schedules.builder(type).learningRate(learningRate).totalSteps(steps);
    if (warmup != null && warmup.steps != null) {
      builder.warmupSteps(warmup.steps);
    }
    if (warmup != null && warmup.ratio != null) {
      builder.warmupRatio(warmup.ratio);
    }
    if (cycles != null) {
      builder.cycles(cycles);
    }
    if (power != null) {
      builder.power(power);
    }
    if (endLearningRate != null) {
      builder.endLearningRate(endLearningRate);
    }
    if (decaySteps != null) {
      builder.decaySteps(decaySteps);
    }
    if (decayType != null) {
      builder.decayType(decayType);
    }
    if (warmupType != null) {
      builder.warmupType(warmupType);
    }
    if (minLrRate != null) {
      builder.minLrRate(minLrRate);
    }
    if (timescale != null) {
      builder.timescale(timescale);
    }
    return builder.build();
  }

  private void printCsv(LearningRateSchedule schedule, PrintWriter out) {
    // Lines go out in blocks: a million println calls on an auto-flushing writer would flush a million times.
    StringBuilder block = new StringBuilder("step,lr\n");
    for (long step = 0; step <= steps; step++) {
      block.append(step).append(',').append(schedule.learningRate(step)).append('\n');
      if (block.length() > 1 << 16) {
        out.print(block);
        block.setLength(0);
      }
    }
    out.print(block);
  }

  private void printSummary(LearningRateSchedule schedule, PrintWriter out) {
    long warmupSteps = schedule.warmupSteps();
    out.println(schedule);
    out.println("peak learning rate  " + schedule.peakLearningRate());
    out.printf(
        Locale.ROOT, "warmup steps        %d (%.2f%% of %d)%n", warmupSteps, 100.0 * warmupSteps / steps, steps);
    out.println("      step  learning rate");
    for (long step : milestones(schedule)) {
      out.printf(Locale.ROOT, "%10d  %s%s%n", step, schedule.learningRate(step), note(schedule, step));
    }
    if (plot != null) {
      out.println("plot written to " + plot);
    }
  }

  /** The start, the middle and end of warmup, the quarters of the run, and where a WSD decay starts. */
  private TreeSet<Long> milestones(LearningRateSchedule schedule) {
    long warmupSteps = schedule.warmupSteps();
    TreeSet<Long> milestones = new TreeSet<>();
    milestones.add(0L);
    if (warmupSteps > 1) {
      milestones.add(warmupSteps / 2);
    }
    milestones.add(warmupSteps);
    for (int quarter = 1; quarter <= 4; quarter++) {
      milestones.add(steps * quarter / 4);
    }
    if (schedule instanceof WarmupStableDecaySchedule wsd) {
      milestones.add(wsd.totalSteps() - wsd.decaySteps());
    }
    milestones.removeIf(step -> step > steps);
    return milestones;
  }

  private static String note(LearningRateSchedule schedule, long step) {
    if (step == schedule.warmupSteps() && step > 0) {
      return "  (end of warmup)";
    }
    if (schedule instanceof WarmupStableDecaySchedule wsd && step == wsd.totalSteps() - wsd.decaySteps()) {
      return "  (decay starts)";
    }
    if (schedule instanceof FiniteSchedule finite && step == finite.totalSteps()) {
      return "  (totalSteps)";
    }
    return "";
  }

  /** Parses --type with lora-sched's names and its message listing them. */
  static final class TypeConverter implements ITypeConverter<ScheduleType> {
    @Override
    public ScheduleType convert(String value) {
      try {
        return ScheduleType.fromName(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** The names --type accepts, for the help text. */
  static final class TypeNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return ScheduleType.hfNames().iterator();
    }
  }
}
