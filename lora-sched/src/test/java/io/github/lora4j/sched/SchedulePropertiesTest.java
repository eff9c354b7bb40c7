package io.github.lora4j.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.sched.WarmupStableDecaySchedule.Shape;
import java.util.OptionalLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Negative;

/** Properties every schedule must have, whatever its parameters. */
class SchedulePropertiesTest {

  /**
   * Rates are products of doubles, and polynomial's {@code ((peak - end) + end) / peak} can round one ulp
   * above 1 (transformers' does too), so bounds allow this much relative slack.
   */
  private static final double ROUNDING = 1e-12;

  @Property
  void ratesStayBetweenZeroAndPeak(
      @ForAll("schedules") LearningRateSchedule schedule, @ForAll @LongRange(max = 20_000) long step) {
    double lr = schedule.learningRate(step);
    assertTrue(lr >= 0, () -> schedule + " at step " + step + " is negative: " + lr);
    assertTrue(
        lr <= schedule.peakLearningRate() * (1 + ROUNDING),
        () -> schedule + " at step " + step + " is above the peak: " + lr);
  }

  @Property
  void ratesAfterWarmupStayAboveTheMinimum(
      @ForAll("withMinimum") FiniteSchedule schedule, @ForAll @LongRange(max = 20_000) long offset) {
    long step = schedule.warmupSteps() + offset;
    double minRatio =
        switch (schedule) {
          case CosineSchedule c -> c.minLrRate();
          case WarmupStableDecaySchedule w -> w.minLrRatio();
          default -> throw new AssertionError(schedule);
        };
    double lr = schedule.learningRate(step);
    assertTrue(
        lr >= minRatio * schedule.peakLearningRate() * (1 - ROUNDING),
        () -> schedule + " at step " + step + " is below its minimum: " + lr);
  }

  @Property
  void warmupRisesStrictlyFromZeroToThePeak(
      @ForAll("warmedUpTypes") ScheduleType type,
      @ForAll @IntRange(min = 1, max = 10_000) int warmup,
      @ForAll @IntRange(min = 1, max = 1_000) int afterWarmup) {
    LearningRateSchedule schedule = typical(type, warmup + afterWarmup).withWarmupSteps(warmup);
    assertEquals(0.0, schedule.learningRate(0), () -> schedule + " does not start at 0");
    for (long step = 0; step < warmup; step++) {
      double now = schedule.learningRate(step);
      double next = schedule.learningRate(step + 1);
      long at = step;
      assertTrue(next > now, () -> schedule + " does not rise from step " + at + " (" + now + ") to " + next);
    }
  }

  @Property
  void warmupShapesOfWarmupStableDecayRiseStrictly(
      @ForAll Shape warmupType,
      @ForAll @IntRange(min = 1, max = 5_000) int warmup,
      @ForAll @IntRange(min = 1, max = 1_000) int afterWarmup) {
    WarmupStableDecaySchedule schedule =
        Schedules.warmupStableDecay(1e-3, warmup + afterWarmup, afterWarmup / 2)
            .withWarmupType(warmupType)
            .withWarmupSteps(warmup);
    assertEquals(0.0, schedule.learningRate(0));
    for (long step = 0; step < warmup; step++) {
      long at = step;
      assertTrue(schedule.learningRate(step + 1) > schedule.learningRate(step), () -> schedule + " at " + at);
    }
  }

  @Property
  void theRateAtTheEndOfWarmupIsThePeak(@ForAll("schedules") LearningRateSchedule schedule) {
    long warmup = schedule.warmupSteps();
    if (schedule instanceof FiniteSchedule finite && warmup == finite.totalSteps()) {
      return; // nothing decays after a warmup that fills the run
    }
    double peak = schedule.peakLearningRate();
    double lr = schedule.learningRate(warmup);
    assertEquals(peak, lr, peak * ROUNDING, () -> schedule + " at the end of warmup");
  }

  @Property
  void decayNeverIncreases(@ForAll("decaying") FiniteSchedule schedule) {
    // Past totalSteps a cosine keeps following its wave and climbs back, as in transformers.
    long end = schedule instanceof CosineSchedule ? schedule.totalSteps() : schedule.totalSteps() + 5;
    for (long step = schedule.warmupSteps(); step < end; step++) {
      double now = schedule.learningRate(step);
      double next = schedule.learningRate(step + 1);
      long at = step;
      assertTrue(next <= now, () -> schedule + " rises from step " + at + " (" + now + ") to " + next);
    }
  }

  @Property
  void cosineWithRestartsJumpsUpOnceAtEachRestart(
      @ForAll @IntRange(min = 1, max = 20) int cycles,
      @ForAll @IntRange(max = 300) int warmup,
      @ForAll @IntRange(min = 1, max = 2_000) int extraDecaySteps) {
    // With fewer decay steps than cycles some restarts fall between steps; one more always resolves them.
    long total = warmup + cycles + extraDecaySteps;
    var schedule = Schedules.cosineWithRestarts(1e-4, total, cycles).withWarmupSteps(warmup);
    int jumps = 0;
    for (long step = warmup; step < total + 5; step++) {
      if (schedule.learningRate(step + 1) > schedule.learningRate(step)) {
        jumps++;
      }
    }
    assertEquals(cycles - 1, jumps, () -> schedule + " restarts");
  }

  @Property
  void warmupRatioRoundsUp(
      @ForAll @DoubleRange(min = 0, max = 1) double ratio, @ForAll @LongRange(min = 1, max = 10_000_000) long total) {
    long warmup = Schedules.warmupSteps(ratio, total);
    double exact = total * ratio;
    assertTrue(warmup >= exact && warmup - 1 < exact, () -> "ceil(" + exact + ") gave " + warmup);
    assertTrue(warmup <= total);
    assertEquals(warmup, Schedules.linear(1e-4, total).withWarmupRatio(ratio).warmupSteps());
  }

  @Property
  void negativeLearningRatesAreRefusedByName(@ForAll @Negative double lr) {
    var e = assertThrows(IllegalArgumentException.class, () -> Schedules.cosine(lr, 100));
    assertEquals("learningRate must be finite and >= 0: " + lr, e.getMessage());
  }

  @Property
  void warmupRatiosOutsideTheUnitIntervalAreRefusedByName(@ForAll("notRatios") double ratio) {
    var e = assertThrows(IllegalArgumentException.class, () -> Schedules.linear(1e-4, 100).withWarmupRatio(ratio));
    assertEquals("warmupRatio must be in [0, 1]: " + ratio, e.getMessage());
  }

  @Property
  void negativeStepsAreRefusedByName(
      @ForAll("schedules") LearningRateSchedule schedule, @ForAll @LongRange(min = Long.MIN_VALUE, max = -1) long step) {
    var e = assertThrows(IllegalArgumentException.class, () -> schedule.learningRate(step));
    assertEquals("step must be >= 0: " + step, e.getMessage());
  }

  @Provide
  Arbitrary<Double> notRatios() {
    return Arbitraries.oneOf(
        Arbitraries.doubles().lessThan(0),
        Arbitraries.doubles().greaterThan(1),
        Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
  }

  @Provide
  Arbitrary<ScheduleType> warmedUpTypes() {
    // constant without warmup is the one type that has none.
    return Arbitraries.of(ScheduleType.class).filter(type -> type != ScheduleType.CONSTANT);
  }

  @Provide
  Arbitrary<LearningRateSchedule> schedules() {
    return Combinators.combine(
            Arbitraries.of(ScheduleType.class),
            // Peak rates from 1e-7 to 1, evenly spread in their exponent.
            Arbitraries.doubles().between(-7, 0).ofScale(4).map(exponent -> Math.pow(10, exponent)),
            Arbitraries.longs().between(1, 3_000),
            fractions(),
            fractions(),
            fractions(),
            Arbitraries.doubles().between(0.05, 4).ofScale(4),
            Arbitraries.integers().between(1, 8))
        .as(SchedulePropertiesTest::schedule);
  }

  private static Arbitrary<Double> fractions() {
    return Arbitraries.doubles().between(0, 1).ofScale(6);
  }

  @Provide
  Arbitrary<FiniteSchedule> decaying() {
    return schedules()
        .filter(
            s ->
                s instanceof LinearSchedule
                    || s instanceof PolynomialSchedule
                    || s instanceof WarmupStableDecaySchedule w && w.cycles() <= 0.5
                    || s instanceof CosineSchedule c && c.cycles() <= 0.5)
        .map(FiniteSchedule.class::cast);
  }

  @Provide
  Arbitrary<FiniteSchedule> withMinimum() {
    return schedules()
        .filter(
            s -> s instanceof WarmupStableDecaySchedule || s instanceof CosineSchedule c && c.cycles() <= 0.5)
        .map(FiniteSchedule.class::cast);
  }

  /** A schedule of {@code type} whose parameters come from the fractions and numbers given. */
  private static LearningRateSchedule schedule(
      ScheduleType type,
      double lr,
      long total,
      double warmupFraction,
      double decayFraction,
      double minFraction,
      double cycles,
      int restarts) {
    long warmup = Math.round(warmupFraction * total);
    Shape[] shapes = Shape.values();
    return switch (type) {
      case CONSTANT -> Schedules.constant(lr);
      case CONSTANT_WITH_WARMUP -> Schedules.constantWithWarmup(lr, warmup);
      case LINEAR -> Schedules.linear(lr, total).withWarmupSteps(warmup);
      // Half the cosines keep transformers' default half wave, so the decay properties see enough of them.
      case COSINE -> Schedules.cosine(lr, total, decayFraction < 0.5 ? 0.5 : cycles).withWarmupSteps(warmup);
      case COSINE_WITH_MIN_LR ->
          new CosineSchedule(lr, total, warmup, decayFraction < 0.5 ? 0.5 : cycles, minFraction);
      case COSINE_WITH_RESTARTS -> Schedules.cosineWithRestarts(lr, total, restarts).withWarmupSteps(warmup);
      case POLYNOMIAL ->
          new PolynomialSchedule(
              lr, total + 1, Math.min(warmup, total), lr * minFraction * 0.999, cycles);
      case INVERSE_SQRT ->
          new InverseSqrtSchedule(lr, warmup, restarts % 2 == 0 ? OptionalLong.empty() : OptionalLong.of(restarts * 37L));
      case WARMUP_STABLE_DECAY ->
          new WarmupStableDecaySchedule(
              lr,
              total,
              warmup,
              Math.round(decayFraction * (total - warmup)),
              shapes[restarts % 3],
              shapes[(restarts / 3) % 3],
              minFraction,
              restarts % 2 == 0 ? 0.5 : cycles);
    };
  }

  /** A schedule of {@code type} with the defaults, no warmup yet, over {@code total} steps. */
  private static LearningRateSchedule typical(ScheduleType type, long total) {
    return switch (type) {
      case CONSTANT, CONSTANT_WITH_WARMUP -> Schedules.constant(3e-4);
      case LINEAR -> Schedules.linear(3e-4, total);
      case COSINE -> Schedules.cosine(3e-4, total);
      case COSINE_WITH_MIN_LR -> Schedules.cosineWithMinLr(3e-4, total, 0.1);
      case COSINE_WITH_RESTARTS -> Schedules.cosineWithRestarts(3e-4, total, 3);
      case POLYNOMIAL -> Schedules.polynomial(3e-4, total, 1e-6, 2.0);
      case INVERSE_SQRT -> Schedules.inverseSqrt(3e-4);
      case WARMUP_STABLE_DECAY -> Schedules.warmupStableDecay(3e-4, total, 0);
    };
  }
}
