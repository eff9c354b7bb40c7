package io.github.lora4j.data;

import java.util.List;
import java.util.Objects;

/**
 * One training example in one of the three shapes TRL's {@code SFTTrainer} accepts: plain
 * {@link Text}, {@link PromptCompletion} and conversational {@link Conversation}. Each remembers
 * its {@link Origin} so that a later error (an example that has no token left to learn from, say)
 * can still name the file and line.
 *
 * <pre>{@code
 * Example e = new Example.PromptCompletion("2 + 2 =", " 4");
 * }</pre>
 */
public sealed interface Example {

  /** Where the example was read from. */
  Origin origin();

  /**
   * Language-modelling text, {@code {"text": ...}}: every token carries loss.
   *
   * @param text the text, not empty
   * @param origin where it was read from
   */
  record Text(String text, Origin origin) implements Example {
    public Text {
      Objects.requireNonNull(text, "text");
      Objects.requireNonNull(origin, "origin");
      if (text.isEmpty()) {
        throw new IllegalArgumentException("text must not be empty");
      }
    }

    public Text(String text) {
      this(text, Origin.IN_MEMORY);
    }
  }

  /**
   * A prompt and its completion, {@code {"prompt": ..., "completion": ...}}. The training text is
   * {@code prompt + completion}, concatenated as given (TRL does not insert a separator either); by
   * default only the completion's tokens carry loss.
   *
   * @param prompt the prompt, may be empty
   * @param completion the completion, not empty
   * @param origin where it was read from
   */
  record PromptCompletion(String prompt, String completion, Origin origin) implements Example {
    public PromptCompletion {
      Objects.requireNonNull(prompt, "prompt");
      Objects.requireNonNull(completion, "completion");
      Objects.requireNonNull(origin, "origin");
      if (completion.isEmpty()) {
        throw new IllegalArgumentException("completion must not be empty");
      }
    }

    public PromptCompletion(String prompt, String completion) {
      this(prompt, completion, Origin.IN_MEMORY);
    }
  }

  /**
   * A conversation, {@code {"messages": [{"role": ..., "content": ...}, ...]}}, rendered with the
   * model's chat template. By default only the assistant's turns carry loss.
   *
   * @param messages the turns, at least one
   * @param origin where it was read from
   */
  record Conversation(List<Message> messages, Origin origin) implements Example {
    public Conversation {
      Objects.requireNonNull(origin, "origin");
      messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
      if (messages.isEmpty()) {
        throw new IllegalArgumentException("messages must not be empty");
      }
    }

    public Conversation(List<Message> messages) {
      this(messages, Origin.IN_MEMORY);
    }
  }
}
