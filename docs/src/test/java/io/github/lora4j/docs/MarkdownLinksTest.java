package io.github.lora4j.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every relative link in the guides and the README points at a file of the repository. */
class MarkdownLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]+)(#[^)]*)?\\)");
  private static final Pattern PATH_IN_CODE = Pattern.compile("`((?:docs|tools|lora-[a-z]+|examples)/[A-Za-z0-9_./-]+\\.(?:md|sh|py|java))`");

  @Test
  void relativeLinksAndMentionedFilesExist() throws IOException {
    Path docs = Path.of("").toAbsolutePath();
    Path root = docs.getParent();
    List<Path> pages = new ArrayList<>();
    try (Stream<Path> s = Files.list(docs)) {
      s.filter(p -> p.toString().endsWith(".md")).forEach(pages::add);
    }
    pages.add(root.resolve("README.md"));
    assertTrue(pages.size() > 1, "no guides found in " + docs);
    List<String> broken = new ArrayList<>();
    for (Path page : pages) {
      String text = Files.readString(page);
      Matcher m = LINK.matcher(text);
      while (m.find()) {
        String target = m.group(1);
        if (target.contains("://") || target.startsWith("mailto:")) {
          continue;
        }
        if (!Files.exists(page.getParent().resolve(target).normalize())) {
          broken.add(root.relativize(page) + ": link to " + target);
        }
      }
      Matcher c = PATH_IN_CODE.matcher(text);
      while (c.find()) {
        if (!Files.exists(root.resolve(c.group(1)))) {
          broken.add(root.relativize(page) + ": mentions " + c.group(1));
        }
      }
    }
    assertTrue(broken.isEmpty(), "broken references:\n" + String.join("\n", broken));
  }
}
