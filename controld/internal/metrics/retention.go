package metrics

import "github.com/prometheus/client_golang/prometheus"

// Retention are retention's series.
type Retention struct {
	// Deleted counts recordings retention deleted, by reason (age, size).
	Deleted *prometheus.CounterVec
	// DeletedBytes counts the bytes their deletion freed, by reason.
	DeletedBytes *prometheus.CounterVec
	// Stored is the size of every stored segment object.
	Stored prometheus.Gauge
	// Pinned is the size of the segments pinned recordings link.
	Pinned prometheus.Gauge
	// Protected is the size of the segments pinned or active recordings link.
	Protected prometheus.Gauge
	// OverCap is 1 while pinned and active recordings alone exceed --retain-size.
	OverCap prometheus.Gauge
}

// newRetention registers retention's series on reg.
func newRetention(reg *prometheus.Registry) Retention {
	r := Retention{
		Deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_retention_deleted_recordings_total", Help: "Recordings deleted by retention, by reason (age, size).",
		}, []string{"reason"}),
		DeletedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lmx_retention_deleted_bytes_total", Help: "Bytes of recorded objects retention deleted, by reason (age, size).",
		}, []string{"reason"}),
		Stored:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_recordings_stored_bytes", Help: "Bytes of every stored recorded segment (shared segments once)."}),
		Pinned:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_recordings_pinned_bytes", Help: "Bytes of the recorded segments pinned recordings link."}),
		Protected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_recordings_protected_bytes", Help: "Bytes of the recorded segments pinned or active recordings link (never deleted by retention)."}),
		OverCap:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "lmx_retention_over_cap", Help: "1 while pinned and active recordings alone exceed --retain-size."}),
	}
	for _, reason := range []string{"age", "size"} {
		r.Deleted.WithLabelValues(reason)
		r.DeletedBytes.WithLabelValues(reason)
	}
	reg.MustRegister(r.Deleted, r.DeletedBytes, r.Stored, r.Pinned, r.Protected, r.OverCap)
	return r
}
