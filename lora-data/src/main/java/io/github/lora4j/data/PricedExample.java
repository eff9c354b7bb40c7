package io.github.lora4j.data;

import java.util.Objects;

/**
 * A curated pricer example: the item's cleaned text, its true price, and the training pair.
 *
 * @param text the cleaned, budget-cut item text that goes into the prompt
 * @param price the true price in dollars
 * @param example the prompt ("How much does this cost ... Price is $") and completion ("129.00")
 */
public record PricedExample(String text, double price, Example.PromptCompletion example) {

  public PricedExample {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(example, "example");
  }

  /** The prompt alone, for generation at evaluation time. */
  public String prompt() {
    return example.prompt();
  }
}
