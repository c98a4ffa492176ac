package controld

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/broker/client"
	"github.com/lmx-video/lmx/broker/embedded"
	"github.com/lmx-video/lmx/controld/internal/auth"
	"github.com/lmx-video/lmx/controld/internal/continuous"
	"github.com/lmx-video/lmx/controld/internal/edges"
	"github.com/lmx-video/lmx/controld/internal/events"
	"github.com/lmx-video/lmx/controld/internal/feeds"
	"github.com/lmx-video/lmx/controld/internal/ingest"
	"github.com/lmx-video/lmx/controld/internal/live"
	"github.com/lmx-video/lmx/controld/internal/metrics"
	"github.com/lmx-video/lmx/controld/internal/mgmt"
	"github.com/lmx-video/lmx/controld/internal/ondemand"
	"github.com/lmx-video/lmx/controld/internal/recording"
	"github.com/lmx-video/lmx/controld/internal/retention"
	"github.com/lmx-video/lmx/controld/internal/vod"
	"github.com/lmx-video/lmx/hls"
	"github.com/lmx-video/lmx/internal/netaddr"
	"github.com/lmx-video/lmx/internal/tlsca"
	"github.com/lmx-video/lmx/objstore"
	"github.com/lmx-video/lmx/sqlstore"
)

// Server is the control node: it wires its components and runs them. Each
// concern has one home under controld/internal: edges (presence, bindings,
// desired state), live (live windows), recording (spool, store, replay),
// ingest (uploads), vod (the playback and ingest listener), mgmt (the
// management API) and events (the event stream).
type Server struct {
	cfg    Config
	logger *slog.Logger

	store  *sqlstore.Store
	bus    bus
	hub    *events.Hub
	edges  *edges.Tracker
	live   *live.Registry
	demand *ondemand.Demand
	feeds  *feeds.Selector
	recs   *recording.Recordings
	vod    *vod.Server
	apiSrv *http.Server
	// cont keeps continuous recording's chunks; ret enforces retention.
	cont *continuous.Manager
	ret  *retention.Enforcer

	// auth is access control; nil with --auth none.
	auth *auth.Authority
	// tls is the listeners' certificate; nil when they are plain.
	tls *tlsca.Bundle
	// adminToken is where the first admin token's secret is kept, and
	// adminCreated whether this start made it.
	adminToken   string
	adminCreated bool

	apiLn, vodLn net.Listener
	ready        chan struct{}
	closeOnce    sync.Once
}

// New opens the store and the recordings store, binds every listener and
// prepares the broker, so a busy port or an unwritable data dir is reported
// before Run. On error nothing stays open; after New, Run (or Close)
// releases it all.
func New(ctx context.Context, cfg Config, logger *slog.Logger, version string) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, ready: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.store, err = sqlstore.Open(ctx, filepath.Join(cfg.DataDir, "lmx.db"), logger.With("component", "sqlstore")); err != nil {
		return nil, fmt.Errorf("state store in %s: %w", cfg.DataDir, err)
	}
	objects, err := objstore.Open(ctx, cfg.Recordings, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("recordings store: %w", err)
	}
	if cfg.UseTLS() {
		if s.tls, err = loadTLS(cfg); err != nil {
			return nil, err
		}
		for _, w := range s.tls.Warnings {
			logger.Warn(w)
		}
	}
	if s.apiLn, err = s.listen(cfg.APIListen); err != nil {
		return nil, fmt.Errorf("management API listener: %w", err)
	}
	if s.vodLn, err = s.listen(cfg.VODListen); err != nil {
		return nil, fmt.Errorf("playback listener: %w", err)
	}

	m := metrics.New()
	var guard vod.Guard
	var apiGate *auth.Gate
	var ingestCfg ingest.Config
	var mqttGate *auth.Gate
	if cfg.AuthOn() {
		if s.auth, err = auth.New(ctx, auth.Config{DataDir: cfg.DataDir, AdminGroup: cfg.AdminGroup}, s.store, logger.With("component", "auth")); err != nil {
			return nil, err
		}
		if s.adminToken, s.adminCreated, err = s.auth.EnsureAdmin(ctx); err != nil {
			return nil, fmt.Errorf("admin token: %w", err)
		}
		if cfg.RotateGrantKey {
			if err := s.auth.RotateGrantKey(ctx); err != nil {
				return nil, fmt.Errorf("rotating the grant key: %w", err)
			}
			logger.Warn("grant key rotated: every playback URL signed before now stops working")
		}
		public, err := s.store.PublicSourceIDs(ctx)
		if err != nil {
			return nil, err
		}
		s.auth.LoadPublic(public)
		trusted, err := auth.ParseTrusted(cfg.TrustedProxies)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy: %w", err)
		}
		lim, ips := auth.NewLimiter(auth.LimiterConfig{}), auth.NewClientIP(trusted)
		gate := func(listener string) *auth.Gate {
			return auth.NewGate(listener, lim, ips, m.AuthFailures, m.AuthThrottled)
		}
		apiGate, mqttGate = gate("api"), gate("mqtt")
		guard = vod.Guard{Access: s.auth, Playback: gate("playback"), Ingest: gate("ingest")}
		ingestCfg = ingest.Config{Edges: s.auth, Gate: guard.Ingest}
	}
	if s.bus, err = s.newBus(mqttGate); err != nil {
		return nil, err
	}
	s.hub = events.NewHub(version)
	emitter := events.NewEmitter(s.bus, logger.With("component", "events"))
	s.edges = edges.New(edges.Config{NoAutoRegister: cfg.NoAutoRegister, LiveSegments: cfg.LiveSegments}, s.store, s.bus, emitter, s.hub, m.EdgesOnline, logger.With("component", "edges"))
	s.live = live.New(live.Config{Segments: cfg.LiveSegments, MemoryLimit: int64(cfg.LiveMemory)}, live.Gauges{Bytes: m.LiveBytes, Segments: m.LiveSegmentsHeld}, logger.With("component", "live"))
	s.demand = ondemand.New(ondemand.Config{Idle: cfg.Idle}, s.live, s.edges, emitter,
		ondemand.Series{Wakeups: m.Wakeups, Awake: m.AwakeSources}, logger.With("component", "ondemand"))
	s.edges.SetAwake(s.demand)
	s.recs, err = recording.New(recording.Config{SpoolDir: filepath.Join(cfg.DataDir, "spool"), CacheSize: int64(cfg.CacheSize), Prober: hls.TSProber{}}, s.store, objects,
		recording.Series{
			Gauges:   recording.Gauges{Spooled: m.Spooled, Persist: m.PersistSeconds},
			Recorded: m.RecordedIn, CacheHits: m.CacheHits, CacheMisses: m.CacheMisses, CacheRejected: m.CacheRejected,
		}, logger.With("component", "recorder"))
	if err != nil {
		return nil, err
	}
	s.cont = continuous.New(continuous.Config{Chunk: cfg.RecordChunk.D(), Lookback: edges.StoppedRecordingGrace},
		s.store, s.edges, emitter, logger.With("component", "continuous"))
	s.recs.SetChunkEnds(s.cont)
	rm := m.Retention
	s.ret = retention.New(retention.Config{Retain: cfg.Retain.D(), MaxBytes: int64(cfg.RetainSize), Every: cfg.RetentionEvery.D()},
		s.store, s.recs, s.edges, emitter,
		retention.Series{Deleted: rm.Deleted, DeletedBytes: rm.DeletedBytes, Stored: rm.Stored, Pinned: rm.Pinned, Protected: rm.Protected, OverCap: rm.OverCap},
		logger.With("component", "retention"))
	// The selector lists a new feed's held segments through ingest, which
	// is made below with the API it renders sources with.
	var in *ingest.Service
	s.feeds = feeds.New(feeds.Config{}, feeds.ListerFunc(func(src feeds.Source, segs []feeds.Segment) { in.ListSwitched(src, segs) }), emitter,
		feeds.Series{Switches: m.FeedSwitches, FailoverSeconds: m.FailoverSeconds, HeldBytes: m.FeedHeldBytes}, logger.With("component", "feeds"))
	deps := mgmt.Deps{
		Store: s.store, Edges: s.edges, Live: s.live, Objects: s.recs, Events: emitter,
		Stream: s.hub, Metrics: promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}), Ready: s.ready,
		OnDemand:   s.demand,
		Continuous: s.cont,
		Feeds:      s.feeds,
	}
	if s.auth != nil {
		deps.Access, deps.Gate = s.auth, apiGate
		s.auth.OnTokenRevoked(s.hub.CloseOwner)
		if eb, ok := s.bus.(*embeddedBus); ok {
			s.auth.OnEdgeRevoked(func(edge string) {
				if n := eb.DisconnectEdge(edge); n > 0 {
					logger.Info("edge's MQTT session closed", "edge", edge)
				}
			})
		}
	}
	api := mgmt.New(mgmt.Config{PublicURL: cfg.PublicURL, Join: s.joinInfo(), NoAutoRegister: cfg.NoAutoRegister,
		Defaults: mgmt.SourceDefaults{Idle: cfg.Idle, RecordChunk: cfg.RecordChunk.D(), Retain: cfg.Retain.D()}}, deps, logger.With("component", "api"))
	ingestCfg.MaxSegmentBytes = cfg.MaxSegmentBytes
	ingestCfg.OnDemand = s.demand
	ingestCfg.Inits = s.live // fMP4 init segments, for the live window and recordings
	in = ingest.New(ingestCfg, s.edges, s.live, s.recs, emitter, api,
		ingest.Series{In: m.SegmentsIn, BytesIn: m.BytesIn, Dropped: m.SegmentsDropped}, logger.With("component", "ingest"))
	in.UseFeeds(s.feeds)
	// Bodies up to twice the segment limit are read, so ingest answers an
	// oversized segment itself, on a connection that stays usable; beyond,
	// fasthttp refuses the request before reading it (and closes the
	// connection, which a client still writing sees as a reset).
	s.vod = vod.New(vod.Config{CORSOrigin: cfg.CORSOrigin, MaxBodyBytes: 2*int(cfg.MaxSegmentBytes) + 1<<20, OnDemand: s.demand}, s.live, s.store, s.recs, in, guard, m, logger.With("component", "vod"))
	s.apiSrv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	// Event streams never end by themselves: end them when shutdown starts.
	s.apiSrv.RegisterOnShutdown(s.hub.Close)
	return s, nil
}

// newBus is the embedded broker, or a client of --broker.
func (s *Server) newBus(gate *auth.Gate) (bus, error) {
	if s.cfg.Broker == "" {
		bc := embedded.Config{Listen: s.cfg.MQTTListen}
		if s.tls != nil {
			bc.TLS = s.tls.ServerConfig()
		}
		if s.auth != nil {
			bc.Edges, bc.Gate = s.auth, gate
		}
		b, err := embedded.New(bc, s.logger)
		if err != nil {
			return nil, err
		}
		return &embeddedBus{Broker: b}, nil
	}
	// On every (re)connection the retained desired states are written
	// again, as they are at start with the embedded broker. s.edges is set
	// before the client runs.
	onUp := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.edges.RepublishDesired(ctx); err != nil {
			s.logger.Warn("could not republish desired states", "err", err)
		}
	}
	c, err := client.New(client.Config{URL: s.cfg.Broker, ClientID: "lmx-controld-" + uuid.NewString()[:8], Username: s.cfg.BrokerUsername, Password: s.cfg.BrokerPassword, OnUp: onUp}, s.logger.With("component", "mqtt"))
	if err != nil {
		return nil, fmt.Errorf("--broker: %w", err)
	}
	u, _ := url.Parse(s.cfg.Broker)
	return &externalBus{c: c, addr: brokerAddr(u.Host)}, nil
}

// APIAddr is the management API's bound address.
func (s *Server) APIAddr() net.Addr { return s.apiLn.Addr() }

// VODAddr is the playback listener's bound address.
func (s *Server) VODAddr() net.Addr { return s.vodLn.Addr() }

// BrokerURL is the MQTT broker edges dial: --broker as given (a password
// in it hidden), else the embedded broker's listener, mqtts:// when it
// serves TLS.
func (s *Server) BrokerURL() string {
	if s.cfg.Broker != "" {
		if u, err := url.Parse(s.cfg.Broker); err == nil {
			return u.Redacted()
		}
		return s.cfg.Broker
	}
	scheme := "mqtt://"
	if s.tls != nil {
		scheme = "mqtts://"
	}
	return scheme + netaddr.Dial(s.MQTTAddr().String())
}

// MQTTAddr is the broker's bound address.
func (s *Server) MQTTAddr() net.Addr { return s.bus.Addr() }

// RecordingsStore describes where recordings go (without credentials).
func (s *Server) RecordingsStore() string { return s.recs.StoreName() }

// Config is the validated configuration.
func (s *Server) Config() Config { return s.cfg }

// Ready is closed once the control node serves.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Close releases what New opened (listeners, broker, store) for a node that
// will not Run, or whose Run returned. It is safe to call more than once.
func (s *Server) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for _, ln := range []net.Listener{s.apiLn, s.vodLn} {
			if ln != nil {
				if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
		if s.bus != nil {
			errs = append(errs, s.bus.Close())
		}
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
	})
	return errors.Join(errs...)
}

// Run serves until ctx ends, then shuts down gracefully: every component's
// goroutine has returned and every listener, the broker and the store are
// closed when it returns, on every path.
func (s *Server) Run(ctx context.Context) error {
	defer s.Close()
	if err := s.edges.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it began
		}
		return fmt.Errorf("state store: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.bus.Run(gctx) })
	err := errors.Join(
		s.bus.Subscribe(broker.EdgeStatusFilter, broker.StatusQoS, s.edges.OnStatus),
		s.bus.Subscribe(broker.EventsTopic, broker.EventQoS, s.hub.OnEvent),
	)
	if err != nil {
		// Nothing serves yet: stop the broker and wait for it.
		g.Go(func() error { return fmt.Errorf("mqtt subscribe: %w", err) })
		return g.Wait()
	}
	// Retained desired states did not survive a restart of the embedded
	// broker: publish them again from the store, the source of truth. (An
	// external broker gets them on every connection instead.)
	if s.cfg.Broker == "" {
		if err := s.edges.RepublishDesired(ctx); err != nil {
			s.logger.Warn("could not republish desired states", "err", err)
		}
	}
	g.Go(func() error {
		if err := s.apiSrv.Serve(s.apiLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("management API: %w", err)
		}
		return nil
	})
	g.Go(func() error { return s.vod.Serve(s.vodLn) })
	g.Go(func() error { return s.edges.Run(gctx) })
	g.Go(func() error { return s.recs.Run(gctx) })
	g.Go(func() error { return s.demand.Run(gctx) })
	g.Go(func() error { return s.cont.Run(gctx) })
	g.Go(func() error { return s.ret.Run(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := errors.Join(s.apiSrv.Shutdown(sctx), s.vod.Shutdown(sctx))
		// fasthttp's Shutdown before its Serve began stops nothing: closing
		// the listener makes that Serve return as soon as it starts.
		if cerr := s.vodLn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
		return err
	})
	if err := s.writeLocal(); err != nil {
		s.logger.Warn("could not write "+api.LocalFile+" for local tools", "err", err)
	}
	close(s.ready)
	return g.Wait()
}

// EdgeJoinCommand is how an edge on another machine joins this control
// node; host is how that machine reaches this one. With access control on
// an edge joins with a token from `lmx edge add`, which says so.
func EdgeJoinCommand(s *Server, host string) string {
	if s.auth != nil {
		return "lmx edge add EDGE-NAME   (prints the lmx edged --join ... line that starts it)"
	}
	mport, vport := netaddr.Port(s.MQTTAddr().String()), netaddr.Port(s.VODAddr().String())
	cmd := fmt.Sprintf("lmx edged --name EDGE-NAME --mqtt mqtt://%s --ingest http://%s --allow-dir /path/to/segments",
		net.JoinHostPort(host, fmt.Sprint(mport)), net.JoinHostPort(host, fmt.Sprint(vport)))
	if mport == netaddr.MQTTPort && vport == netaddr.PlaybackPort {
		cmd = "lmx edged --name EDGE-NAME --controld " + host + " --allow-dir /path/to/segments"
	}
	return cmd
}
