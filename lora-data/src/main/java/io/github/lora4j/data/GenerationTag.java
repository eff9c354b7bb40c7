package io.github.lora4j.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

/**
 * transformers' {@code {% generation %}...{% endgeneration %}} block, which marks what an assistant
 * generates so that {@code return_assistant_tokens_mask} can find it. Here it only renders its body:
 * {@link ChatTemplate#renderWithAssistantSpans} finds assistant turns without it, so templates with
 * and without the block both work.
 */
final class GenerationTag implements Tag {

  private static final long serialVersionUID = 1L;

  @Override
  public String getName() {
    return "generation";
  }

  @Override
  public String getEndTagName() {
    return "endgeneration";
  }

  @Override
  public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
    StringBuilder out = new StringBuilder();
    for (Node child : tagNode.getChildren()) {
      out.append(child.render(interpreter).getValue());
    }
    return out.toString();
  }
}
