package io.github.lora4j.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lora4j.sched.WarmupStableDecaySchedule.Shape;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Values worked out by hand from transformers' formulas, descriptions, and every refusal's message. */
class SchedulesTest {

  private static void assertRefused(String message, Executable call) {
    var e = assertThrows(IllegalArgumentException.class, call);
    assertEquals(message, e.getMessage());
  }

  @Test
  void cosineFallsFromThePeakThroughHalfToZeroAndClimbsBackAfterTheEnd() {
    var cosine = Schedules.cosine(1e-4, 1010).withWarmupSteps(10);
    assertEquals(0.0, cosine.learningRate(0));
    assertEquals(0.5e-4, cosine.learningRate(5));
    assertEquals(1e-4, cosine.learningRate(10));
    assertEquals(0.5e-4, cosine.learningRate(510), 1e-18);
    assertEquals(0.0, cosine.learningRate(1010));
    // transformers only clamps negatives, so past the end the half wave turns back up.
    assertTrue(cosine.learningRate(1015) > 0);
  }

  @Test
  void linearReachesZeroAtTheEndAndStaysThere() {
    var linear = Schedules.linear(2e-4, 100).withWarmupSteps(20);
    assertEquals(1e-4, linear.learningRate(10));
    assertEquals(2e-4, linear.learningRate(20));
    assertEquals(1e-4, linear.learningRate(60));
    assertEquals(0.0, linear.learningRate(100));
    assertEquals(0.0, linear.learningRate(1_000_000));
  }

  @Test
  void warmupThatFillsTheRunEndsAtZeroForLinear() {
    // transformers: max(0, (total - step) / max(1, total - warmup)) is 0 at step == warmup == total.
    var linear = Schedules.linear(1.0, 10).withWarmupSteps(10);
    assertEquals(0.9, linear.learningRate(9));
    assertEquals(0.0, linear.learningRate(10));
  }

  @Test
  void constantWarmsUpThenHolds() {
    var constant = Schedules.constantWithWarmup(1.0, 4);
    assertEquals(0.25, constant.learningRate(1));
    assertEquals(1.0, constant.learningRate(4));
    assertEquals(1.0, constant.learningRate(Long.MAX_VALUE));
    assertEquals(ScheduleType.CONSTANT_WITH_WARMUP, constant.type());
    assertEquals(ScheduleType.CONSTANT, Schedules.constant(1.0).type());
  }

  @Test
  void polynomialDecaysToItsEndRate() {
    var poly = Schedules.polynomial(1.0, 110, 0.1, 2.0).withWarmupSteps(10);
    // remaining = 1 - 50/100 = 0.5; (1 - 0.1) * 0.25 + 0.1
    assertEquals(0.325, poly.learningRate(60), 1e-15);
    assertEquals(0.1, poly.learningRate(110), 1e-15);
    assertEquals(0.1, poly.learningRate(111));
    assertEquals(1e-7, Schedules.polynomial(1.0, 10).learningRate(10), 1e-20);
  }

  @Test
  void inverseSqrtDefaultsItsTimescaleToTheWarmupOrTenThousand() {
    var noWarmup = Schedules.inverseSqrt(1.0);
    assertEquals(10_000, noWarmup.effectiveTimescale());
    assertEquals(0.5, noWarmup.learningRate(30_000)); // 1 / sqrt((30000 + 10000) / 10000)
    var warmedUp = noWarmup.withWarmupSteps(100);
    assertEquals(100, warmedUp.effectiveTimescale());
    assertEquals(1.0, warmedUp.learningRate(100));
    assertEquals(0.5, warmedUp.learningRate(400)); // 1 / sqrt((400 + 0) / 100)
    var explicit = Schedules.inverseSqrt(1.0, 25).withWarmupSteps(100);
    assertEquals(25, explicit.effectiveTimescale());
    assertEquals(0.5, explicit.learningRate(175)); // 1 / sqrt((175 - 75) / 25)
  }

  @Test
  void cosineWithRestartsRestartsAtThePeak() {
    var restarts = Schedules.cosineWithRestarts(1.0, 30, 3);
    assertEquals(1.0, restarts.learningRate(0));
    assertEquals(1.0, restarts.learningRate(10));
    assertEquals(1.0, restarts.learningRate(20));
    assertEquals(0.5, restarts.learningRate(25), 1e-15);
    assertEquals(0.0, restarts.learningRate(30));
  }

  @Test
  void warmupStableDecayWarmsUpHoldsAndDecaysToItsMinimum() {
    var wsd =
        Schedules.warmupStableDecay(1.0, 100, 20)
            .withDecayType(Shape.LINEAR)
            .withMinLrRatio(0.1)
            .withWarmupSteps(10);
    assertEquals(70, wsd.stableSteps());
    assertEquals(0.1, wsd.learningRate(0)); // warmup starts at the minimum, not at 0
    assertEquals(0.55, wsd.learningRate(5), 1e-15);
    assertEquals(1.0, wsd.learningRate(10));
    assertEquals(1.0, wsd.learningRate(79));
    assertEquals(1.0, wsd.learningRate(80));
    assertEquals(0.55, wsd.learningRate(90), 1e-15);
    assertEquals(0.1, wsd.learningRate(100));
    assertEquals(0.1, wsd.learningRate(10_000));
  }

  @Test
  void cosineWithMinLrBottomsOutAtItsRate() {
    var cosine = Schedules.cosineWithMinLr(1e-3, 100, 0.1);
    assertEquals(ScheduleType.COSINE_WITH_MIN_LR, cosine.type());
    assertEquals(1e-4, cosine.learningRate(100), 1e-18);
    assertEquals(Schedules.cosine(1e-3, 100), Schedules.cosineWithMinLr(1e-3, 100, 0.0));
  }

  @Test
  void warmupRatioRoundsUpAsTransformersDoes() {
    assertEquals(30, Schedules.warmupSteps(0.03, 1000));
    // 0.07 * 100 is 7.000000000000001 in doubles; math.ceil gives 8 in Python as well.
    assertEquals(8, Schedules.warmupSteps(0.07, 100));
    assertEquals(1, Schedules.warmupSteps(0.1, 7));
    assertEquals(0, Schedules.warmupSteps(0.0, 7));
    assertEquals(7, Schedules.warmupSteps(1.0, 7));
    assertEquals(30, Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03).warmupSteps());
    assertEquals(30, Schedules.inverseSqrt(1e-4).withWarmupRatio(0.03, 1000).warmupSteps());
  }

  @Test
  void toStringNamesTheTypeAndEveryParameter() {
    assertEquals(
        "cosine(lr=1.0E-4, totalSteps=1000, warmupSteps=30, cycles=0.5)",
        Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03).toString());
    assertEquals("constant(lr=0.001)", Schedules.constant(1e-3).toString());
    assertEquals("constant_with_warmup(lr=0.001, warmupSteps=5)", Schedules.constantWithWarmup(1e-3, 5).toString());
    assertEquals("linear(lr=0.001, totalSteps=10, warmupSteps=0)", Schedules.linear(1e-3, 10).toString());
    assertEquals(
        "cosine_with_restarts(lr=0.001, totalSteps=10, warmupSteps=0, cycles=2)",
        Schedules.cosineWithRestarts(1e-3, 10, 2).toString());
    assertEquals(
        "polynomial(lr=0.001, totalSteps=10, warmupSteps=0, endLr=1.0E-7, power=1.0)",
        Schedules.polynomial(1e-3, 10).toString());
    assertEquals("inverse_sqrt(lr=0.001, warmupSteps=0, timescale=10000)", Schedules.inverseSqrt(1e-3).toString());
    assertEquals(
        "warmup_stable_decay(lr=0.001, totalSteps=10, warmupSteps=0, decaySteps=4, warmupType=linear,"
            + " decayType=cosine, minLrRatio=0.0, cycles=0.5)",
        Schedules.warmupStableDecay(1e-3, 10, 4).toString());
    assertEquals(
        "cosine_with_min_lr(lr=0.001, totalSteps=10, warmupSteps=0, cycles=0.5, minLrRate=0.1)",
        Schedules.cosineWithMinLr(1e-3, 10, 0.1).toString());
  }

  @Test
  void builderBuildsWhatTheFactoriesBuild() {
    assertEquals(
        Schedules.cosine(1e-4, 1000).withWarmupRatio(0.03),
        Schedules.byName("cosine").learningRate(1e-4).totalSteps(1000).warmupRatio(0.03).build());
    assertEquals(
        Schedules.cosineWithRestarts(1e-4, 100, 3).withWarmupSteps(5),
        Schedules.byName("cosine_with_restarts").learningRate(1e-4).totalSteps(100).warmupSteps(5).cycles(3).build());
    assertEquals(
        Schedules.polynomial(1e-4, 100, 1e-6, 2.0),
        Schedules.byName("polynomial").learningRate(1e-4).totalSteps(100).endLearningRate(1e-6).power(2).build());
    assertEquals(
        Schedules.inverseSqrt(1e-4, 50).withWarmupSteps(10),
        Schedules.byName("inverse_sqrt").learningRate(1e-4).warmupSteps(10).timescale(50).build());
    assertEquals(
        new InverseSqrtSchedule(1e-4, 30, OptionalLong.empty()),
        Schedules.byName("inverse_sqrt").learningRate(1e-4).totalSteps(1000).warmupRatio(0.03).build());
    assertEquals(
        Schedules.warmupStableDecay(1e-4, 100, 30).withDecayType(Shape.ONE_MINUS_SQRT).withMinLrRatio(0.1),
        Schedules.byName("warmup_stable_decay")
            .learningRate(1e-4)
            .totalSteps(100)
            .decaySteps(30)
            .decayType("1-sqrt")
            .minLrRate(0.1)
            .build());
    assertEquals(
        Schedules.constantWithWarmup(1e-4, 7),
        Schedules.byName("constant_with_warmup").learningRate(1e-4).warmupSteps(7).build());
    assertEquals(
        Schedules.cosineWithMinLr(1e-4, 100, 0.2),
        Schedules.byName("cosine_with_min_lr").learningRate(1e-4).totalSteps(100).minLrRate(0.2).build());
    assertEquals(Schedules.constant(1e-4), Schedules.byName("constant").learningRate(1e-4).totalSteps(9).build());
  }

  @Test
  void unknownTypesAreRefusedWithTheKnownNames() {
    assertRefused(
        "unknown schedule type 'cosin'; known: constant, constant_with_warmup, linear, cosine,"
            + " cosine_with_restarts, polynomial, inverse_sqrt, warmup_stable_decay, cosine_with_min_lr",
        () -> Schedules.byName("cosin"));
    var e = assertThrows(IllegalArgumentException.class, () -> Schedules.byName("reduce_lr_on_plateau"));
    assertTrue(e.getMessage().contains("follows a training metric"), e.getMessage());
  }

  @Test
  void badArgumentsAreRefusedByNameAndValue() {
    assertRefused("learningRate must be finite and >= 0: NaN", () -> Schedules.constant(Double.NaN));
    assertRefused("learningRate must be finite and >= 0: Infinity", () -> Schedules.linear(Double.POSITIVE_INFINITY, 9));
    assertRefused("learningRate must be finite and >= 0: -1.0E-4", () -> Schedules.cosine(-1e-4, 9));
    assertRefused("totalSteps must be > 0: 0", () -> Schedules.cosine(1e-4, 0));
    assertRefused("totalSteps must be > 0: -5", () -> Schedules.linear(1e-4, -5));
    assertRefused("warmupRatio must be in [0, 1]: 1.5", () -> Schedules.cosine(1e-4, 100).withWarmupRatio(1.5));
    assertRefused("warmupRatio must be in [0, 1]: NaN", () -> Schedules.warmupSteps(Double.NaN, 100));
    assertRefused("warmupSteps must be >= 0: -1", () -> Schedules.constant(1e-4).withWarmupSteps(-1));
    assertRefused("warmupSteps must be <= totalSteps (100): 101", () -> Schedules.linear(1e-4, 100).withWarmupSteps(101));
    assertRefused("cycles must be finite and > 0: 0.0", () -> Schedules.cosine(1e-4, 100, 0));
    assertRefused("cycles must be finite and > 0: -0.5", () -> Schedules.cosine(1e-4, 100, -0.5));
    assertRefused("cycles must be > 0: 0", () -> Schedules.cosineWithRestarts(1e-4, 100, 0));
    assertRefused("minLrRate must be in [0, 1]: 1.1", () -> Schedules.cosineWithMinLr(1e-4, 100, 1.1));
    assertRefused("power must be finite and > 0: 0.0", () -> Schedules.polynomial(1e-4, 100, 0, 0));
    assertRefused(
        "endLearningRate must be < learningRate (1.0E-4): 1.0E-4", () -> Schedules.polynomial(1e-4, 100, 1e-4, 1));
    assertRefused(
        "warmupSteps must be < totalSteps (100) for polynomial, whose decay divides by their difference: 100",
        () -> Schedules.polynomial(1e-4, 100).withWarmupSteps(100));
    assertRefused("timescale must be > 0: 0", () -> Schedules.inverseSqrt(1e-4, 0));
    assertRefused("decaySteps must be >= 0: -1", () -> Schedules.warmupStableDecay(1e-4, 100, -1));
    assertRefused(
        "warmupSteps + decaySteps must be <= totalSteps (100): 30 + 80 = 110",
        () -> Schedules.warmupStableDecay(1e-4, 100, 80).withWarmupSteps(30));
    assertRefused("step must be >= 0: -1", () -> Schedules.constant(1e-4).learningRate(-1));
  }

  @Test
  void theBuilderRefusesWhatTransformersWouldRefuseOrIgnore() {
    assertRefused(
        "power does not apply to cosine; it applies to polynomial", () -> Schedules.byName("cosine").power(2));
    assertRefused(
        "cycles does not apply to linear; it applies to cosine, cosine_with_min_lr, cosine_with_restarts,"
            + " warmup_stable_decay",
        () -> Schedules.byName("linear").cycles(2));
    assertRefused(
        "cycles must be a whole number for cosine_with_restarts: 2.5",
        () -> Schedules.byName("cosine_with_restarts").cycles(2.5));
    assertRefused(
        "warmupSteps and warmupRatio are mutually exclusive; warmupSteps is already 10",
        () -> Schedules.byName("linear").warmupSteps(10).warmupRatio(0.1));
    assertRefused(
        "warmupRatio does not apply to constant, which transformers runs without warmup; use"
            + " constant_with_warmup: 0.03",
        () -> Schedules.byName("constant").warmupRatio(0.03));
    assertRefused("learningRate is required for cosine", () -> Schedules.byName("cosine").totalSteps(9).build());
    assertRefused("totalSteps is required for linear", () -> Schedules.byName("linear").learningRate(1e-4).build());
    assertRefused(
        "decaySteps is required for warmup_stable_decay",
        () -> Schedules.byName("warmup_stable_decay").learningRate(1e-4).totalSteps(9).build());
    assertRefused(
        "minLrRate is required for cosine_with_min_lr",
        () -> Schedules.byName("cosine_with_min_lr").learningRate(1e-4).totalSteps(9).build());
    assertRefused(
        "warmupRatio needs totalSteps to count from, and none was given",
        () -> Schedules.byName("inverse_sqrt").learningRate(1e-4).warmupRatio(0.1).build());
    assertRefused(
        "decayType must be one of linear, cosine, 1-sqrt: 'sqrt'",
        () -> Schedules.byName("warmup_stable_decay").decayType("sqrt"));
  }
}
