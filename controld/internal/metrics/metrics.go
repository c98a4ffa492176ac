// Package metrics holds the control node's Prometheus series, on their own
// registry so tests can run several control nodes in one process. Every
// component gets this one value and updates only its own series.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the control node's series.
type Metrics struct {
	// Registry is what /metrics serves.
	Registry *prometheus.Registry

	// SegmentsIn counts segments received from edges, by source.
	SegmentsIn *prometheus.CounterVec
	// BytesIn counts segment bytes received from edges, by source.
	BytesIn *prometheus.CounterVec
	// SegmentsServed counts segments served to players, by kind (live, recording).
	SegmentsServed *prometheus.CounterVec
	// BytesServed counts segment bytes served to players, by kind.
	BytesServed *prometheus.CounterVec
	// SegmentsDropped counts segments received but not kept, by reason.
	SegmentsDropped *prometheus.CounterVec
	// PlaylistsServed counts playlists served, by kind.
	PlaylistsServed *prometheus.CounterVec
	// CacheHits and CacheMisses count replay cache lookups.
	CacheHits, CacheMisses prometheus.Counter
	// CacheRejected counts segments the replay cache refused to store.
	CacheRejected prometheus.Counter
	// LiveMisses counts requests for live segments that are not (or no longer) held.
	LiveMisses prometheus.Counter
	// LiveBytes is the memory held by live windows' segments now.
	LiveBytes prometheus.Gauge
	// LiveSegmentsHeld is how many live segments are held now (listed or just slid out).
	LiveSegmentsHeld prometheus.Gauge
	// EdgesOnline is how many edges are connected.
	EdgesOnline prometheus.Gauge
	// Spooled is how many recorded segments wait in the spool.
	Spooled prometheus.Gauge
	// PersistSeconds is the time from a recorded segment's arrival to its object being written.
	PersistSeconds prometheus.Histogram
	// RecordedIn counts segments stored for recordings.
	RecordedIn prometheus.Counter

	// AuthFailures counts refused credentials and grants, by listener
	// (api, playback, ingest, mqtt) and reason.
	AuthFailures *prometheus.CounterVec
	// AuthThrottled counts requests answered 429 because their address
	// failed authentication too often, by listener.
	AuthThrottled *prometheus.CounterVec

	// FeedSwitches counts changes of a multi-feed source's active feed, by reason.
	FeedSwitches *prometheus.CounterVec
	// FailoverSeconds is how long after the active feed's next segment
	// was due a failover listed the new feed's first segment.
	FailoverSeconds prometheus.Histogram
	// FeedHeldBytes is the memory of standby feeds' held segments.
	FeedHeldBytes prometheus.Gauge

	// Wakeups counts on-demand sources woken by a playlist request.
	Wakeups prometheus.Counter
	// WakeSeconds is the time from the playlist request that woke an
	// on-demand source to its answer with a playable playlist.
	WakeSeconds prometheus.Histogram
	// WakeFailures counts playlist requests for a sleeping on-demand
	// source answered 503 (its edge offline, or nothing in time).
	WakeFailures prometheus.Counter
	// AwakeSources is how many on-demand sources are awake now.
	AwakeSources prometheus.Gauge

	// LivePlaylists, LiveSegments and LiveSegmentBytes are the hot paths'
	// series, resolved once instead of per request.
	LivePlaylists, LiveSegments, LiveSegmentBytes prometheus.Counter

	// Retention are retention's series.
	Retention Retention
}

// New registers every series, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		SegmentsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_in_total", Help: "Segments received from edges.",
		}, []string{"source"}),
		BytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segment_bytes_in_total", Help: "Segment bytes received from edges.",
		}, []string{"source"}),
		SegmentsServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_served_total", Help: "Segments served to players.",
		}, []string{"kind"}),
		BytesServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segment_bytes_served_total", Help: "Segment bytes served to players.",
		}, []string{"kind"}),
		SegmentsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_dropped_total", Help: "Segments received but not kept, by reason.",
		}, []string{"reason"}),
		PlaylistsServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_playlists_served_total", Help: "Playlists served to players.",
		}, []string{"kind"}),
		CacheHits:        prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_hits_total", Help: "Replay cache hits."}),
		CacheMisses:      prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_misses_total", Help: "Replay cache misses."}),
		CacheRejected:    prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_rejections_total", Help: "Recorded segments the replay cache refused to store."}),
		LiveMisses:       prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_live_segment_misses_total", Help: "Requests for live segments no longer held (404)."}),
		LiveBytes:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_live_memory_bytes", Help: "Memory held by live windows' segments."}),
		LiveSegmentsHeld: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_live_segments_held", Help: "Live segments held (listed, or slid out and kept for late players)."}),
		EdgesOnline:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_edges_online", Help: "Edges connected now."}),
		Spooled:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_recording_spooled_segments", Help: "Recorded segments waiting in the spool for the object store."}),
		PersistSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lmx_recording_persist_seconds", Help: "Time from a recorded segment's arrival to its object being written.",
			Buckets: []float64{.002, .005, .01, .02, .03, .05, .075, .1, .15, .2, .3, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		RecordedIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_recorded_segments_total", Help: "Segments stored for recordings."}),
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_auth_failures_total", Help: "Refused credentials and playback grants, by listener and reason.",
		}, []string{"listener", "reason"}),
		AuthThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_auth_throttled_total", Help: "Requests refused (429) because their address failed authentication too often.",
		}, []string{"listener"}),
		Wakeups: prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_ondemand_wakeups_total", Help: "On-demand sources woken by a live playlist request."}),
		WakeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lmx_ondemand_wake_seconds", Help: "Time from the live playlist request that woke an on-demand source to its answer with a playable playlist.",
			Buckets: []float64{.05, .1, .15, .2, .3, .4, .5, .6, .8, 1, 1.2, 1.4, 1.5, 2},
		}),
		WakeFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_ondemand_wake_failures_total", Help: "Live playlist requests for a sleeping on-demand source answered 503 (edge offline, or nothing within the wake budget)."}),
		AwakeSources: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_ondemand_awake_sources", Help: "On-demand sources awake (uploading live) now."}),
	}
	m.FeedSwitches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lmx_feed_switches_total", Help: "Changes of a multi-feed source's active feed, by reason (first, missed, prefer, removed).",
	}, []string{"reason"})
	m.FailoverSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "lmx_failover_seconds", Help: "Time from the active feed's missed segment's due time to the new feed's first segment being listed.",
		Buckets: []float64{.1, .2, .3, .4, .5, .6, .8, 1, 1.25, 1.5, 2, 3, 5},
	})
	m.FeedHeldBytes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_feed_held_bytes", Help: "Memory of standby feeds' held segments."})
	m.Registry.MustRegister(m.FeedSwitches, m.FailoverSeconds, m.FeedHeldBytes)
	m.Registry.MustRegister(m.Wakeups, m.WakeSeconds, m.WakeFailures, m.AwakeSources)
	m.Registry.MustRegister(m.SegmentsIn, m.BytesIn, m.SegmentsServed, m.BytesServed, m.SegmentsDropped,
		m.PlaylistsServed, m.CacheHits, m.CacheMisses, m.CacheRejected, m.LiveMisses, m.LiveBytes, m.LiveSegmentsHeld,
		m.EdgesOnline, m.Spooled, m.PersistSeconds, m.RecordedIn, m.AuthFailures, m.AuthThrottled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Retention = newRetention(m.Registry)
	m.LivePlaylists = m.PlaylistsServed.WithLabelValues("live")
	m.LiveSegments = m.SegmentsServed.WithLabelValues("live")
	m.LiveSegmentBytes = m.BytesServed.WithLabelValues("live")
	return m
}
