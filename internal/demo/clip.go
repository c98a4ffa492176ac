package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// clipFS holds a 6 s test clip cut into three 2 s MPEG-TS segments (H.264,
// 480x270), so the demo runs on a machine without ffmpeg.
//
//go:embed clip/*.ts
var clipFS embed.FS

// clipSegmentSeconds is the duration of each shipped segment.
const clipSegmentSeconds = 2.0

// clipPusher plays ffmpeg's part with the shipped clip: it writes segments
// into dir one by one in real time, looping, and POSTs each new sliding
// playlist to the edge with LiveMix's headers. A loop point is marked with
// EXT-X-DISCONTINUITY, as the timestamps start again there.
type clipPusher struct {
	source string
	dir    string
	url    string
	hc     *http.Client
	every  time.Duration
}

type pushed struct {
	name string
	disc bool
}

func (p *clipPusher) run(ctx context.Context) error {
	names, err := clipFS.ReadDir("clip")
	if err != nil {
		return err
	}
	var clip [][]byte
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, n := range names {
		b, err := clipFS.ReadFile("clip/" + n.Name())
		if err != nil {
			return err
		}
		clip = append(clip, b)
	}
	var window []pushed
	var mediaSeq uint64
	t := time.NewTicker(p.every)
	defer t.Stop()
	for n := 0; ; n++ {
		i := n % len(clip)
		name := fmt.Sprintf("%s-%06d.ts", p.source, n)
		if err := os.WriteFile(filepath.Join(p.dir, name), clip[i], 0o644); err != nil {
			return fmt.Errorf("demo clip: %w", err)
		}
		window = append(window, pushed{name: name, disc: i == 0 && n > 0})
		if len(window) > 5 {
			_ = os.Remove(filepath.Join(p.dir, window[0].name))
			window = window[1:]
			mediaSeq++
		}
		if err := p.post(ctx, mediaSeq, window); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (p *clipPusher) post(ctx context.Context, seq uint64, window []pushed) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:%d\n", int(clipSegmentSeconds), seq)
	for _, s := range window {
		if s.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", clipSegmentSeconds, s.name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, &b)
	if err != nil {
		return err
	}
	req.Header.Set("Video-Source-Name", p.source)
	req.Header.Set("MPEG-TS-URI-Prefix", "file://"+p.dir)
	resp, err := p.hc.Do(req)
	if err != nil {
		return fmt.Errorf("push to edge: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push to edge: %s", resp.Status)
	}
	return nil
}
