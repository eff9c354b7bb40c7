package io.github.lora4j.data;

import java.io.IOException;
import java.nio.file.Path;

/** Parquet records; not yet implemented. */
final class ParquetRecords extends RecordReader {

  ParquetRecords(Path file) throws IOException {
    throw new IOException("Parquet is not supported yet: " + file);
  }

  @Override
  protected RawRecord read() {
    return null;
  }

  @Override
  public void close() {}
}
