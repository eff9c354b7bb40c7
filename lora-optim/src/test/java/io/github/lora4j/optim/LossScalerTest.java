package io.github.lora4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import java.util.List;

/** {@link LossScaler} follows torch.amp.GradScaler's update rule ({@code _amp_update_scale_}). */
class LossScalerTest {

  @Example
  void defaultsAreTorchs() {
    LossScaler s = LossScaler.dynamic();
    assertEquals(65536f, s.scale());
    for (int i = 0; i < 1999; i++) {
      s.update(false);
    }
    assertEquals(65536f, s.scale(), "no growth before 2000 good steps");
    s.update(false);
    assertEquals(131072f, s.scale(), "x2 at the 2000th");
    assertEquals(0, s.growthTracker());
    s.update(true);
    assertEquals(65536f, s.scale(), "x0.5 on overflow");
  }

  /** The rule written out as torch's C++ has it, replayed over any sequence of good and bad steps. */
  @Property(tries = 200)
  void matchesTorchsUpdateRule(@ForAll @Size(max = 60) List<Boolean> overflows, @ForAll @IntRange(min = 1, max = 5) int interval) {
    LossScaler s = LossScaler.of(8f, 2f, 0.5f, interval);
    float scale = 8f;
    int tracker = 0;
    for (boolean inf : overflows) {
      s.update(inf);
      if (inf) {
        scale *= 0.5f;
        tracker = 0;
      } else if (tracker + 1 == interval) {
        scale = Float.isFinite(scale * 2f) ? scale * 2f : scale;
        tracker = 0;
      } else {
        tracker++;
      }
      assertEquals(scale, s.scale());
      assertEquals(tracker, s.growthTracker());
    }
  }

  @Example
  void neverGrowsToInfinity() {
    LossScaler s = LossScaler.of(Float.MAX_VALUE, 2f, 0.5f, 1);
    s.update(false);
    assertEquals(Float.MAX_VALUE, s.scale());
  }
}
