package io.github.lora4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TokenBatchTest {

  @Test
  void packedPositionsRestartWithEachSegment() {
    int[] segments = {1, 1, 1, 2, 2, 0, 1, 2, 2, 2, 3, 3};
    TokenBatch b = TokenBatch.packed(2, 6, new int[12], new int[12], segments);
    assertArrayEquals(new int[] {0, 1, 2, 0, 1, 0, 0, 0, 1, 2, 0, 1}, b.positions());
    assertArrayEquals(segments, b.segments());
  }

  @Test
  void paddedKeepsItsMeaning() {
    TokenBatch b = TokenBatch.padded(1, 4, new int[] {5, 6, 7, 0}, new int[] {5, 6, 7, -100}, new int[] {1, 1, 1, 0});
    assertArrayEquals(new int[] {0, 1, 2, 3}, b.positions());
    assertArrayEquals(new int[] {6, 7, -100, -100}, b.shiftedTargets());
    assertEquals(2, b.countedTargets());
  }

  @Test
  void packedChecksItsSegments() {
    var e = assertThrows(IllegalArgumentException.class, () -> TokenBatch.packed(1, 3, new int[3], new int[3], new int[2]));
    assertEquals("segments has 2 values, expected batchSize * sequenceLength = 3", e.getMessage());
  }

  @Test
  void realTokensLeaveOutPadding() {
    TokenBatch padded = TokenBatch.padded(2, 4, new int[8], new int[8], new int[] {1, 1, 1, 0, 0, 1, 1, 1});
    assertEquals(8, padded.tokenCount());
    assertEquals(6, padded.realTokenCount());
    assertEquals(8, TokenBatch.padded(2, 4, new int[8], new int[8], null).realTokenCount(), "no mask: every token is real");
    assertEquals(5, TokenBatch.packed(1, 6, new int[6], new int[6], new int[] {1, 1, 2, 2, 2, 0}).realTokenCount());
  }
}
