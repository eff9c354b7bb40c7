package io.github.lora4j.data;

/**
 * Maps code point offsets to UTF-16 offsets in one string. Hugging Face tokenizers report
 * character spans in Unicode code points; Java strings index UTF-16 units, which differ after the
 * first character outside the Basic Multilingual Plane (most emoji).
 */
final class CodePointIndex {

  private final int[] utf16; // null when every code point is one unit

  private CodePointIndex(int[] utf16) {
    this.utf16 = utf16;
  }

  static CodePointIndex of(String text) {
    int count = text.codePointCount(0, text.length());
    if (count == text.length()) {
      return new CodePointIndex(null);
    }
    int[] map = new int[count + 1];
    int u = 0;
    for (int cp = 0; cp < count; cp++) {
      map[cp] = u;
      u += Character.charCount(text.codePointAt(u));
    }
    map[count] = u;
    return new CodePointIndex(map);
  }

  int utf16(int codePoint) {
    return utf16 == null ? codePoint : utf16[Math.min(codePoint, utf16.length - 1)];
  }
}
