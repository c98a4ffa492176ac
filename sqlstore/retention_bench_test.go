package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchEnv reads a positive integer from the environment, else def.
func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkStorageTotals times the sums retention's every pass reads, on a
// store shaped like continuous recording: LMX_BENCH_CAMERAS cameras
// (default 2) recorded for LMX_BENCH_HOURS hours (default 6) in 2 s
// segments and 1 h chunks, one chunk in 50 pinned, the newest chunk of
// each camera active. A week of ten cameras is LMX_BENCH_CAMERAS=10
// LMX_BENCH_HOURS=168 (3 M segments; building it takes a few minutes).
func BenchmarkStorageTotals(b *testing.B) {
	cameras, hours := benchEnv("LMX_BENCH_CAMERAS", 2), benchEnv("LMX_BENCH_HOURS", 6)
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "lmx.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const perChunk = 1800 // 1 h of 2 s segments
	for c := range cameras {
		srcID := fmt.Sprintf("src-%d", c)
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sources (id, name, created_at, updated_at, record_mode) VALUES (?, ?, 0, 0, 'always')`, srcID, "cam-"+strconv.Itoa(c)); err != nil {
				return err
			}
			seg, err := tx.PrepareContext(ctx, `INSERT INTO segments (source_id, seq, object_key, duration, bytes, start_at, created_at) VALUES (?, ?, ?, 2, ?, ?, 0)`)
			if err != nil {
				return err
			}
			link, err := tx.PrepareContext(ctx, `INSERT INTO recording_segments (recording_id, source_id, seq) VALUES (?, ?, ?)`)
			if err != nil {
				return err
			}
			for h := range hours {
				recID := fmt.Sprintf("rec-%d-%05d", c, h)
				at := start.Add(time.Duration(h) * time.Hour)
				active := h == hours-1
				var end any = toNanos(at.Add(time.Hour))
				if active {
					end = nil
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO recordings (id, source_id, start_at, end_at, active, created_at, updated_at, pinned, continuous) VALUES (?, ?, ?, ?, ?, 0, 0, ?, 1)`,
					recID, srcID, toNanos(at), end, active, h%50 == 7); err != nil {
					return err
				}
				for i := range perChunk {
					seq := h*perChunk + i
					if _, err := seg.ExecContext(ctx, srcID, seq, fmt.Sprintf("%s/%d.ts", srcID, seq), 500_000, toNanos(at.Add(time.Duration(i)*2*time.Second))); err != nil {
						return err
					}
					if _, err := link.ExecContext(ctx, recID, srcID, seq); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var t StorageTotals
	for b.Loop() {
		if t, err = s.StorageTotals(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if want := int64(cameras * hours * perChunk); t.Objects != want {
		b.Fatalf("totals count %d objects, want %d", t.Objects, want)
	}
	b.ReportMetric(float64(t.Objects), "segments")
}
