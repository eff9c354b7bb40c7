package io.github.lora4j.core.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;

/**
 * Names of training runs: {@code <project>-<yyyy-MM-dd_HH.mm.ss>} in UTC, the run's directory under
 * the output directory. Project and run names become directory names, so they are checked to be
 * exactly one path element.
 */
final class RunNames {

  static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd_HH.mm.ss").withZone(ZoneOffset.UTC);

  private RunNames() {}

  /** {@code project-<the clock's time, UTC>}, e.g. {@code pricer-2026-01-02_03.04.05}. */
  static String of(String project, Clock clock) {
    return checkProject(project) + "-" + TIMESTAMP.format(clock.instant());
  }

  /**
   * {@link #of} made unique in {@code outputDir}: when a run of the same second already has a
   * directory there, {@code -2}, {@code -3}, ... is appended.
   */
  static String unique(Path outputDir, String project, Clock clock) {
    String base = of(project, clock);
    String name = base;
    for (int n = 2; Files.exists(outputDir.resolve(name)); n++) {
      name = base + "-" + n;
    }
    return name;
  }

  /** Checks a project name: one directory name, see {@link #checkName}. */
  static String checkProject(String project) {
    return checkName("project", project);
  }

  /** Checks a run name given by the user: one directory name, see {@link #checkName}. */
  static String checkRunName(String runName) {
    return checkName("runName", runName);
  }

  /**
   * A name that is one directory name on every platform: not blank, no path separator, not
   * {@code .} or {@code ..}, no control characters, no leading or trailing space, at most 200
   * characters (the timestamp must still fit in a file name).
   */
  static String checkName(String field, String value) {
    Objects.requireNonNull(value, field);
    String why = null;
    if (value.isBlank()) {
      why = "must not be blank";
    } else if (value.indexOf('/') >= 0 || value.indexOf('\\') >= 0) {
      why = "must be a directory name, without path separators";
    } else if (value.equals(".") || value.equals("..")) {
      why = "must be a directory name, not . or ..";
    } else if (value.chars().anyMatch(Character::isISOControl)) {
      why = "must not contain control characters";
    } else if (!value.strip().equals(value)) {
      why = "must not start or end with white space";
    } else if (value.length() > 200) {
      why = "must be at most 200 characters long";
    }
    if (why != null) {
      throw new IllegalArgumentException(field + " " + why + ": \"" + printable(value) + "\"");
    }
    return value;
  }

  private static String printable(String s) {
    var b = new StringBuilder();
    s.codePoints().forEach(c -> {
      if (Character.isISOControl(c)) {
        b.append(String.format("\\u%04x", c));
      } else {
        b.appendCodePoint(c);
      }
    });
    return b.length() > 80 ? b.substring(0, 77) + "..." : b.toString();
  }
}
