package io.github.lora4j.data;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 and refuses anything else. The JDK's readers replace bad bytes with U+FFFD
 * silently; a training set should say where its bad bytes are instead.
 */
final class StrictUtf8 {

  private final CharsetDecoder decoder =
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  private int badOffset = -1;

  /**
   * The text of {@code bytes[offset, offset + length)}, or null when they are not valid UTF-8; then
   * {@link #badOffset} says where the first bad byte is.
   */
  String decode(byte[] bytes, int offset, int length) {
    ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
    // UTF-8 never needs more UTF-16 units than bytes.
    CharBuffer out = CharBuffer.allocate(length);
    decoder.reset();
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    if (r.isError()) {
      badOffset = in.position();
      return null;
    }
    badOffset = -1;
    return out.flip().toString();
  }

  /** The offset into the array of the first bad byte of the last failed {@link #decode}. */
  int badOffset() {
    return badOffset;
  }
}
