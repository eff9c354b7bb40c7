package io.github.lora4j.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunNamesTest {

  @TempDir Path dir;

  private static void rejects(String message, String project) {
    var e = assertThrows(IllegalArgumentException.class, () -> RunNames.checkProject(project));
    assertEquals(message, e.getMessage());
  }

  @Test
  void nameIsProjectAndUtcTimeWhateverTheClocksZone() {
    Instant t = Instant.parse("2026-01-02T03:04:05.999Z");
    assertEquals("pricer-2026-01-02_03.04.05", RunNames.of("pricer", Clock.fixed(t, ZoneId.of("Asia/Tokyo"))));
    assertEquals("pricer-2026-01-02_03.04.05", RunNames.of("pricer", Clock.fixed(t, ZoneId.of("America/Denver"))));
  }

  @Test
  void aSecondRunInTheSameSecondGetsASuffix() throws IOException {
    Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneId.of("UTC"));
    assertEquals("p-2026-01-02_03.04.05", RunNames.unique(dir, "p", clock));
    Files.createDirectory(dir.resolve("p-2026-01-02_03.04.05"));
    assertEquals("p-2026-01-02_03.04.05-2", RunNames.unique(dir, "p", clock));
    Files.createDirectory(dir.resolve("p-2026-01-02_03.04.05-2"));
    assertEquals("p-2026-01-02_03.04.05-3", RunNames.unique(dir, "p", clock));
  }

  @Test
  void projectNamesThatAreNotOneDirectoryAreRefusedWithTheValue() {
    rejects("project must be a directory name, without path separators: \"a/b\"", "a/b");
    rejects("project must be a directory name, without path separators: \"..\\x\"", "..\\x");
    rejects("project must be a directory name, not . or ..: \"..\"", "..");
    rejects("project must not be blank: \"  \"", "  ");
    rejects("project must not contain control characters: \"a\\u0000b\"", "a\u0000b");
    rejects("project must not start or end with white space: \" p\"", " p");
    assertThrows(NullPointerException.class, () -> RunNames.checkProject(null));
    var e = assertThrows(IllegalArgumentException.class, () -> RunNames.checkRunName("x/y"));
    assertEquals("runName must be a directory name, without path separators: \"x/y\"", e.getMessage());
  }

  @Test
  void ordinaryNamesPass() {
    for (String ok : new String[] {"pricer", "llama-3.1-8b_lora", "Prix à la carte", "a.b"}) {
      assertEquals(ok, RunNames.checkProject(ok));
    }
  }

  @Property
  void namesSortAsTheirTimes(@ForAll @StringLength(min = 1, max = 20) @AlphaChars @NumericChars String project,
      @ForAll("seconds") long a, @ForAll("seconds") long b) {
    String na = RunNames.of(project, Clock.fixed(Instant.ofEpochSecond(a), ZoneId.of("UTC")));
    String nb = RunNames.of(project, Clock.fixed(Instant.ofEpochSecond(b), ZoneId.of("UTC")));
    assertEquals(Long.signum(Long.compare(a, b)), Integer.signum(na.compareTo(nb)), na + " vs " + nb);
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<Long> seconds() {
    // Years 2000 to 9999: four-digit years, where the text order is the time order.
    return net.jqwik.api.Arbitraries.longs().between(946_684_800L, 253_402_300_799L);
  }
}
