package controld

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the control node's Prometheus series, on their own registry
// so tests can start several control nodes in one process.
type metrics struct {
	reg             *prometheus.Registry
	segmentsIn      *prometheus.CounterVec
	bytesIn         *prometheus.CounterVec
	segmentsServed  *prometheus.CounterVec
	bytesServed     *prometheus.CounterVec
	segmentsDropped *prometheus.CounterVec
	playlistsServed *prometheus.CounterVec
	cacheHits       prometheus.Counter
	cacheMisses     prometheus.Counter
	cacheRejected   prometheus.Counter
	edgesOnline     prometheus.Gauge
	spooled         prometheus.Gauge
	persistSeconds  prometheus.Histogram
	recordedIn      prometheus.Counter

	// Series of the hot paths, resolved once instead of per request.
	livePlaylists    prometheus.Counter
	liveSegments     prometheus.Counter
	liveSegmentBytes prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		segmentsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_in_total", Help: "Segments received from edges.",
		}, []string{"source"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segment_bytes_in_total", Help: "Segment bytes received from edges.",
		}, []string{"source"}),
		segmentsServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_served_total", Help: "Segments served to players.",
		}, []string{"kind"}),
		bytesServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segment_bytes_served_total", Help: "Segment bytes served to players.",
		}, []string{"kind"}),
		segmentsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_segments_dropped_total", Help: "Segments received but not kept, by reason.",
		}, []string{"reason"}),
		playlistsServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_playlists_served_total", Help: "Playlists served to players.",
		}, []string{"kind"}),
		cacheHits:     prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_hits_total", Help: "Segment cache hits."}),
		cacheMisses:   prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_misses_total", Help: "Segment cache misses."}),
		cacheRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_cache_rejections_total", Help: "Segments the cache refused to store."}),
		edgesOnline:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_edges_online", Help: "Edges connected now."}),
		spooled:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_recording_spooled_segments", Help: "Recorded segments waiting in the spool for the object store."}),
		persistSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lmx_recording_persist_seconds", Help: "Time from a recorded segment's arrival to its object being written.",
			Buckets: []float64{.002, .005, .01, .02, .03, .05, .075, .1, .15, .2, .3, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		recordedIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "lmx_recorded_segments_total", Help: "Segments stored for recordings."}),
	}
	m.reg.MustRegister(m.segmentsIn, m.bytesIn, m.segmentsServed, m.bytesServed, m.segmentsDropped,
		m.playlistsServed, m.cacheHits, m.cacheMisses, m.cacheRejected, m.edgesOnline, m.spooled, m.persistSeconds, m.recordedIn,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.livePlaylists = m.playlistsServed.WithLabelValues("live")
	m.liveSegments = m.segmentsServed.WithLabelValues("live")
	m.liveSegmentBytes = m.bytesServed.WithLabelValues("live")
	return m
}
