package io.github.lora4j.core;

import java.util.List;

/** Every problem {@link Trainer.Builder#build()} found, each naming the setting and its value. */
public final class TrainerConfigException extends IllegalArgumentException {
  private final List<String> problems;

  TrainerConfigException(List<String> problems) {
    super(problems.size() == 1 ? problems.getFirst() : problems.size() + " problems with the trainer's settings:\n  " + String.join("\n  ", problems));
    this.problems = List.copyOf(problems);
  }

  /** One line per problem, e.g. {@code "loraDropout must be in [0, 1): 1.5"}. */
  public List<String> problems() {
    return problems;
  }
}
