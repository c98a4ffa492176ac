package recording

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coocood/freecache"
)

// ErrSegmentTooLarge is returned when a segment cannot fit the cache at all.
var ErrSegmentTooLarge = errors.New("segment larger than a quarter of the segment cache")

// segmentCache keeps segments in freecache. freecache refuses any entry
// larger than about 1/1024 of its size, so a segment is stored as
// fixed-size chunks plus a small header entry naming them. The chunk keys
// carry a random nonce, so a segment stored again under the same key never
// mixes chunks of two versions.
type segmentCache struct {
	fc    *freecache.Cache
	chunk int
	size  int64
	bufs  sync.Pool
}

const headerLen = 8 + 8 + 4 // size, nonce, chunk count

func newSegmentCache(size int64) *segmentCache {
	fc := freecache.NewCache(int(size))
	// The largest key+value one freecache segment accepts, less the entry
	// header and room for our key, rounded down to 4 KiB.
	maxEntry := int(size)/256/4 - freecache.ENTRY_HDR_SIZE - 128
	chunk := maxEntry &^ (4<<10 - 1)
	if chunk < 4<<10 {
		chunk = maxEntry
	}
	return &segmentCache{fc: fc, chunk: chunk, size: size}
}

func chunkKey(key string, nonce uint64, i int) []byte {
	b := make([]byte, 0, len(key)+24)
	b = append(b, key...)
	b = append(b, '#')
	b = strconv.AppendUint(b, nonce, 16)
	b = append(b, '#')
	return strconv.AppendInt(b, int64(i), 10)
}

// put stores data under key for ttl. The header goes in last, so a reader
// never sees a segment whose chunks are not all written.
func (c *segmentCache) put(key string, data []byte, ttl time.Duration) error {
	if int64(len(data)) > c.size/4 {
		return fmt.Errorf("%w: %d bytes", ErrSegmentTooLarge, len(data))
	}
	var nb [8]byte
	_, _ = rand.Read(nb[:])
	nonce := binary.LittleEndian.Uint64(nb[:])
	secs := int(ttl / time.Second)
	n := 0
	for off := 0; off < len(data) || n == 0; off += c.chunk {
		end := min(off+c.chunk, len(data))
		if err := c.fc.Set(chunkKey(key, nonce, n), data[off:end], secs); err != nil {
			return fmt.Errorf("cache chunk %d of %s: %w", n, key, err)
		}
		n++
	}
	var hdr [headerLen]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(len(data)))
	binary.LittleEndian.PutUint64(hdr[8:], nonce)
	binary.LittleEndian.PutUint32(hdr[16:], uint32(n))
	if err := c.fc.Set([]byte(key), hdr[:], secs); err != nil {
		return fmt.Errorf("cache header of %s: %w", key, err)
	}
	return nil
}

// get returns the segment stored under key in a buffer from the pool (give
// it back with release), or false when it or any of its chunks is gone.
func (c *segmentCache) get(key string) (*[]byte, bool) {
	var hdr [headerLen]byte
	h, err := c.fc.GetWithBuf([]byte(key), hdr[:])
	if err != nil || len(h) != headerLen {
		return nil, false
	}
	size := int(binary.LittleEndian.Uint64(h[0:]))
	nonce := binary.LittleEndian.Uint64(h[8:])
	n := int(binary.LittleEndian.Uint32(h[16:]))
	bp := c.buffer(size)
	buf := (*bp)[:size]
	off := 0
	for i := 0; i < n; i++ {
		end := min(off+c.chunk, size)
		v, err := c.fc.GetWithBuf(chunkKey(key, nonce, i), buf[off:end])
		if err != nil || len(v) != end-off {
			c.release(bp)
			return nil, false
		}
		off = end
	}
	*bp = buf
	return bp, true
}

// has reports whether key's header is cached (its chunks may still be evicted).
func (c *segmentCache) has(key string) bool {
	_, err := c.fc.Peek([]byte(key))
	return err == nil
}

func (c *segmentCache) buffer(size int) *[]byte {
	if v, ok := c.bufs.Get().(*[]byte); ok && cap(*v) >= size {
		return v
	}
	b := make([]byte, size, max(size, 4<<20))
	return &b
}

func (c *segmentCache) release(b *[]byte) { c.bufs.Put(b) }

// bytes is the cache's configured size.
func (c *segmentCache) bytes() int64 { return c.size }
