package live

import (
	"sync"
	"time"
)

// viewCounter counts playlist requests per wall-clock minute, a cheap
// stand-in for "viewers" (a player reloads the playlist every few seconds).
type viewCounter struct {
	mu        sync.Mutex
	minute    int64
	cur, prev int64
}

func (v *viewCounter) hit(now time.Time) {
	m := now.Unix() / 60
	v.mu.Lock()
	defer v.mu.Unlock()
	v.roll(m)
	v.cur++
}

// perMinute is the last full minute's count (or the current one's, if higher).
func (v *viewCounter) perMinute(now time.Time) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.roll(now.Unix() / 60)
	return max(v.prev, v.cur)
}

func (v *viewCounter) roll(m int64) {
	switch {
	case m == v.minute:
	case m == v.minute+1:
		v.prev, v.cur, v.minute = v.cur, 0, m
	default:
		v.prev, v.cur, v.minute = 0, 0, m
	}
}
