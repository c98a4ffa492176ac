package controld

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

func TestSegmentCacheChunks(t *testing.T) {
	c := newSegmentCache(256 << 20)
	seg := make([]byte, 8<<20) // an 8 MB segment must fit the default cache
	for i := range seg {
		seg[i] = byte(rand.IntN(256))
	}
	if err := c.put("live/a/1", seg, time.Minute); err != nil {
		t.Fatalf("put 8 MB: %v", err)
	}
	got, ok := c.get("live/a/1")
	if !ok || !bytes.Equal(*got, seg) {
		t.Fatalf("get: ok=%v equal=%v", ok, ok && bytes.Equal(*got, seg))
	}
	c.release(got)

	// Overwrite with a shorter value: no chunk of the old one may leak in.
	short := []byte("hello")
	if err := c.put("live/a/1", short, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok = c.get("live/a/1")
	if !ok || !bytes.Equal(*got, short) {
		t.Fatalf("after overwrite: %q %v", *got, ok)
	}
	if _, ok := c.get("live/a/2"); ok {
		t.Fatal("missing key found")
	}
	// Empty segments round-trip too.
	if err := c.put("e", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.get("e"); !ok || len(*got) != 0 {
		t.Fatalf("empty: %v %v", ok, got)
	}
}

func TestSegmentCacheEvictedChunkIsMiss(t *testing.T) {
	c := newSegmentCache(1 << 20) // tiny: chunks are small and evict quickly
	data := bytes.Repeat([]byte{7}, 200<<10)
	if err := c.put("first", data, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		_ = c.put("filler"+string(rune('a'+i%26))+string(rune('a'+i/26)), data, 0)
	}
	if got, ok := c.get("first"); ok && !bytes.Equal(*got, data) {
		t.Fatal("a partly evicted segment came back wrong instead of missing")
	}
	if err := c.put("huge", make([]byte, 1<<20), 0); err == nil {
		t.Fatal("a segment larger than a quarter of the cache was accepted")
	}
}
