package fakemetadata

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

// The keys under /computeMetadata/v1/instance/ and their values.
const (
	KeyMaintenanceEvent = "maintenance-event"
	KeyPreempted        = "preempted"

	MaintenanceNone      = "NONE"
	MaintenanceMigrate   = "MIGRATE_ON_HOST_MAINTENANCE"
	MaintenanceTerminate = "TERMINATE_ON_HOST_MAINTENANCE"
)

const (
	defaultDefaultWait = 60 * time.Second
	defaultMaxWait     = 5 * time.Minute
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Now stamps Request.Time; default time.Now.
	Now func() time.Time
	// DefaultWait bounds a wait_for_change request without timeout_sec
	// (real time); default 60s.
	DefaultWait time.Duration
	// MaxWait bounds every wait (real time); default 5m.
	MaxWait time.Duration
}

// Request is one HTTP request the server answered (see fakehttp.Request).
type Request = fakehttp.Request

// Server is the fake metadata server. Create it with New.
type Server struct {
	opts     Options
	recorder *fakehttp.Recorder

	mu        sync.Mutex
	values    map[string]string
	changed   chan struct{} // closed and replaced on every change
	faults    faultQueue
	waiting   int
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a server whose VM has no maintenance scheduled and is not
// preempted.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DefaultWait <= 0 {
		opts.DefaultWait = defaultDefaultWait
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = defaultMaxWait
	}
	s := &Server{
		opts:    opts,
		values:  map[string]string{KeyMaintenanceEvent: MaintenanceNone, KeyPreempted: "FALSE"},
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	s.recorder = fakehttp.New(s.routes(), fakehttp.Options{
		Now:        opts.Now,
		Advance:    func() {},
		WriteError: func(w http.ResponseWriter, status int) { writeStatus(w, status) },
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.recorder.ServeHTTP(w, r) }

// Close releases every waiting request (each answers the current value)
// and makes later waits answer at once. Call it before closing the http
// server, or that close waits for the requests to time out.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// Requests returns a copy of the requests answered so far, in order.
func (s *Server) Requests() []Request { return s.recorder.Requests() }

// SetMaintenanceEvent sets instance/maintenance-event (MaintenanceNone,
// MaintenanceMigrate or MaintenanceTerminate).
func (s *Server) SetMaintenanceEvent(v string) { s.Set(KeyMaintenanceEvent, v) }

// SetPreempted sets instance/preempted to TRUE or FALSE.
func (s *Server) SetPreempted(v bool) {
	if v {
		s.Set(KeyPreempted, "TRUE")
		return
	}
	s.Set(KeyPreempted, "FALSE")
}

// Set sets instance/<key> to any value and wakes the requests waiting for
// a change of it. Setting the same value changes nothing, as on GCE.
func (s *Server) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.values[key]; ok && old == value {
		return
	}
	s.values[key] = value
	close(s.changed)
	s.changed = make(chan struct{})
}

// Value returns instance/<key> and its ETag.
func (s *Server) Value(key string) (value, etag string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, etagOf(v), ok
}

// Waiting returns how many requests are blocked in wait_for_change, so a
// test can change a value once its client is waiting.
func (s *Server) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// etagOf is the ETag of a value: a hash of its content, so the same value
// always has the same ETag.
func etagOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}
