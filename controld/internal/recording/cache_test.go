package recording

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
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

// segmentBytes is n bytes that differ from every other call's.
func segmentBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// TestSegmentCacheEvictedChunkIsMiss: a segment whose header is still cached
// but one of whose chunks is gone is a miss, never bytes of another segment.
func TestSegmentCacheEvictedChunkIsMiss(t *testing.T) {
	c := newSegmentCache(64 << 20)
	data := segmentBytes(3*c.chunk+100, 1)
	if err := c.put("a", data, 0); err != nil {
		t.Fatal(err)
	}
	other := segmentBytes(len(data), 2)
	if err := c.put("b", other, 0); err != nil {
		t.Fatal(err)
	}
	// Evict the second chunk of "a" only, as freecache does when its shard fills.
	var hdr [headerLen]byte
	h, err := c.fc.GetWithBuf([]byte("a"), hdr[:])
	if err != nil {
		t.Fatal(err)
	}
	nonce := binary.LittleEndian.Uint64(h[8:])
	if !c.fc.Del(chunkKey("a", nonce, 1)) {
		t.Fatal("chunk 1 of a was not cached")
	}
	if !c.has("a") {
		t.Fatal("the header should still be cached: this is the state under test")
	}
	if got, ok := c.get("a"); ok {
		t.Fatalf("partly evicted segment served (%d bytes, equal to the original: %v)", len(*got), bytes.Equal(*got, data))
	}
	if got, ok := c.get("b"); !ok || !bytes.Equal(*got, other) {
		t.Fatal("the intact segment is not served whole")
	}
}

// TestSegmentCacheUnderEviction fills a small cache with distinct segments
// far past its size: whatever is still served is byte for byte what was put.
func TestSegmentCacheUnderEviction(t *testing.T) {
	c := newSegmentCache(4 << 20)
	segs := map[string][]byte{}
	for i := range 64 {
		key := "seg-" + strconv.Itoa(i)
		segs[key] = segmentBytes(200<<10, uint64(i+10))
		if err := c.put(key, segs[key], 0); err != nil {
			t.Fatal(err)
		}
	}
	served, partial := 0, 0
	for key, want := range segs {
		if c.has(key) {
			if _, ok := c.get(key); !ok {
				partial++
			}
		}
		if got, ok := c.get(key); ok {
			served++
			if !bytes.Equal(*got, want) {
				t.Fatalf("%s came back with other bytes", key)
			}
		}
	}
	if served == 0 || served == len(segs) {
		t.Fatalf("%d of %d segments served: the test wants some evicted and some kept", served, len(segs))
	}
	t.Logf("%d of %d served, %d with header kept but a chunk evicted", served, len(segs), partial)
	if err := c.put("huge", make([]byte, 1<<20+1), 0); err == nil {
		t.Fatal("a segment larger than a quarter of the cache was accepted")
	}
}
