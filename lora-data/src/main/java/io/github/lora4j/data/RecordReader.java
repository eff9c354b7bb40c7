package io.github.lora4j.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The seam between a file format and the dataset: a single forward pass over a file's records in
 * file order. I/O failures are {@link UncheckedIOException}s, since a pass is consumed as a stream.
 */
abstract class RecordReader implements Iterator<RawRecord>, Closeable {

  private RawRecord next;
  private boolean done;

  /** The next record, or null at the end of the file. */
  protected abstract RawRecord read() throws IOException;

  @Override
  public final boolean hasNext() {
    if (next == null && !done) {
      try {
        next = read();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      done = next == null;
    }
    return next != null;
  }

  @Override
  public final RawRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    RawRecord r = next;
    next = null;
    return r;
  }
}
