package io.github.lora4j.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines on {@code \n} (dropping a {@code \r} before it) without decoding,
 * so that each line can be decoded and judged on its own.
 */
final class ByteLines implements Closeable {

  private final InputStream in;
  private final byte[] buffer = new byte[1 << 16];
  private int position;
  private int limit;
  private boolean eof;
  private byte[] line = new byte[1 << 12];
  private int length;
  private long number;

  ByteLines(InputStream in) {
    this.in = in;
  }

  /** Advances to the next line; false at the end of the stream. */
  boolean next() throws IOException {
    length = 0;
    boolean any = false;
    while (true) {
      if (position == limit) {
        if (eof || !fill()) {
          break;
        }
      }
      any = true;
      int newline = -1;
      for (int i = position; i < limit; i++) {
        if (buffer[i] == '\n') {
          newline = i;
          break;
        }
      }
      int end = newline >= 0 ? newline : limit;
      append(position, end - position);
      position = newline >= 0 ? newline + 1 : limit;
      if (newline >= 0) {
        break;
      }
    }
    if (!any) {
      return false;
    }
    number++;
    if (length > 0 && line[length - 1] == '\r') {
      length--;
    }
    return true;
  }

  private boolean fill() throws IOException {
    int n = in.read(buffer);
    if (n <= 0) {
      eof = true;
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }

  private void append(int from, int count) {
    if (length + count > line.length) {
      line = Arrays.copyOf(line, Math.max(line.length * 2, length + count));
    }
    System.arraycopy(buffer, from, line, length, count);
    length += count;
  }

  /** The current line's bytes, valid in {@code [0, length())} until the next call. */
  byte[] bytes() {
    return line;
  }

  int length() {
    return length;
  }

  /** The current line's 1-based number. */
  long number() {
    return number;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
