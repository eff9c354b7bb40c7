package io.github.lora4j.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * The tokens of a text: their ids and, for each, the span of the text it came from as UTF-16
 * indices {@code [start, end)} into the Java string. Special tokens the tokenizer added have an
 * empty span.
 */
public record Tokens(int[] ids, int[] starts, int[] ends) {

  public Tokens {
    Objects.requireNonNull(ids, "ids");
    Objects.requireNonNull(starts, "starts");
    Objects.requireNonNull(ends, "ends");
    if (starts.length != ids.length || ends.length != ids.length) {
      throw new IllegalArgumentException("ids, starts and ends must have one entry per token: " + ids.length + ", " + starts.length + ", " + ends.length);
    }
  }

  public int size() {
    return ids.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tokens t && Arrays.equals(ids, t.ids) && Arrays.equals(starts, t.starts) && Arrays.equals(ends, t.ends);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(ids);
  }

  @Override
  public String toString() {
    return "Tokens" + Arrays.toString(ids);
  }
}
