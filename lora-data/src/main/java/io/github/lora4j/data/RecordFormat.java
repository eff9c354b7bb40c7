package io.github.lora4j.data;

/**
 * Which of TRL's dataset shapes a file holds. {@link #AUTO} decides per record from the fields it
 * has, as TRL does: {@code messages} makes a conversation, {@code prompt} with {@code completion} a
 * prompt-completion pair, and the text field plain text.
 */
public enum RecordFormat {
  /** Decide per record from its fields. The default. */
  AUTO,
  /** {@code {"text": ...}}; the field name is configurable. */
  TEXT,
  /** {@code {"prompt": ..., "completion": ...}}. */
  PROMPT_COMPLETION,
  /** {@code {"messages": [{"role": ..., "content": ...}, ...]}}. */
  CONVERSATIONAL
}
