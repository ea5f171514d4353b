package fakegce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
)

const (
	defaultProject       = "test-project"
	defaultRetryInterval = 30 * time.Second
	defaultPageSize      = 500
	defaultMaxWait       = 2 * time.Second
	maxErrorsPerMIG      = 1000
	computePrefix        = "https://www.googleapis.com/compute/v1/"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Project is the only project the fake serves; default "test-project".
	Project string
	// BootTime is how long a created instance stays STAGING before RUNNING.
	BootTime time.Duration
	// DeleteTime is how long an instance stays DELETING before it is gone.
	DeleteTime time.Duration
	// StartTime is how long an instance started from the standby pool
	// stays STAGING before RUNNING (its disk already holds the image);
	// default BootTime. SetStartTime changes it at run time.
	StartTime time.Duration
	// StopTime is how long a stopping instance stays STOPPING.
	StopTime time.Duration
	// StoppedStatus is the instanceStatus of a stopped instance:
	// TERMINATED (the default, what GCE reports for a stopped VM) or
	// STOPPED (also in the API's enum): targets must accept both.
	StoppedStatus string
	// OperationTime is how long an operation stays RUNNING; default 0 (DONE
	// at once). Operation.Wait sleeps at least 1s (real time) between polls,
	// so keep it 0 in fast tests.
	OperationTime time.Duration
	// RetryInterval is how often a MIG retries creating instances in a zone
	// in stockout or over quota, adding a listErrors item each time;
	// default 30s.
	RetryInterval time.Duration
	// PageSize is the default and maximum page size of list calls; default 500.
	PageSize int
	// MaxWait bounds (real time) how long operations/{op}/wait blocks; default 2s.
	MaxWait time.Duration
	// StockoutCode is the error code of creations refused for stockout or
	// capacity; default ZONE_RESOURCE_POOL_EXHAUSTED. GCE also reports
	// ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS, which targets must classify
	// the same way.
	StockoutCode string
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Request is one HTTP request the server received. It is the shared type
// of the fakes, so requests to fakegce and fakenomad can be merged and
// ordered by Received.
type Request = fakehttp.Request

// Server is the fake compute API. Create it with New.
type Server struct {
	opts     Options
	recorder *fakehttp.Recorder // logs requests and injects errors in front of the routes

	mu         sync.Mutex
	changed    chan struct{}
	closed     chan struct{}
	closeOnce  sync.Once
	migs       map[string]*mig // key zone + "/" + name
	zones      map[string]*zoneState
	ops        map[string]*operation // key zone + "/" + name
	requestIDs map[string]*operation
	// templates are the instance templates (versions.go), by name;
	// globalOps the global operations their inserts create.
	templates map[string]*template
	globalOps map[string]*operation
	onRunning []func(zone, mig, instance string)
	onDeleted []func(zone, mig, instance string)
	onStopped []func(zone, mig, instance string)
	pending   []func() // callbacks to run once the lock is released
	// spot is the Spot model: provisioning models, Spot stockouts and
	// preemptions (spot.go).
	spot spotState
	seq  uint64
}

type zoneState struct {
	stockout bool
	quota    bool
	// capacity caps the zone's created instances (all MIGs); -1 is unlimited.
	capacity int
	failNext *opFailure
}

// New returns a fake with no MIGs.
func New(opts Options) *Server {
	if opts.Project == "" {
		opts.Project = defaultProject
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = defaultRetryInterval
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = defaultMaxWait
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StartTime <= 0 {
		opts.StartTime = opts.BootTime
	}
	if opts.StoppedStatus == "" {
		opts.StoppedStatus = "TERMINATED"
	}
	if opts.StockoutCode == "" {
		opts.StockoutCode = "ZONE_RESOURCE_POOL_EXHAUSTED"
	}
	s := &Server{
		opts:       opts,
		changed:    make(chan struct{}),
		closed:     make(chan struct{}),
		migs:       map[string]*mig{},
		zones:      map[string]*zoneState{},
		ops:        map[string]*operation{},
		requestIDs: map[string]*operation{},
		templates:  map[string]*template{},
		globalOps:  map[string]*operation{},
	}
	s.recorder = fakehttp.New(s.routes(), fakehttp.Options{
		Now:     opts.Now,
		Advance: s.Advance,
		WriteError: func(w http.ResponseWriter, status int) {
			writeError(w, status, injectedMessage(status))
		},
	})
	return s
}

// Close releases blocked operation waits; call it before closing the http
// server that serves s.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// InstanceURL returns the full URL GCE uses for an instance.
func InstanceURL(project, zone, name string) string {
	return fmt.Sprintf("%sprojects/%s/zones/%s/instances/%s", computePrefix, project, zone, name)
}

func (s *Server) zoneURL(zone string) string {
	return fmt.Sprintf("%sprojects/%s/zones/%s", computePrefix, s.opts.Project, zone)
}

func (s *Server) zoneLocked(zone string) *zoneState {
	z, ok := s.zones[zone]
	if !ok {
		z = &zoneState{capacity: -1}
		s.zones[zone] = z
	}
	return z
}

// notifyLocked wakes waiters after a state change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// unlock releases the lock, then runs the callbacks queued meanwhile.
func (s *Server) unlock() {
	fns := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// InjectHTTPErrors makes the next n API requests answer status with a Google
// JSON error body, without touching state.
func (s *Server) InjectHTTPErrors(status, n int) { s.recorder.InjectErrors(status, n) }

// Requests returns a copy of the requests answered so far (at least the
// last 100 000), in the order they were answered; Time and Received are
// arrival times.
func (s *Server) Requests() []Request { return s.recorder.Requests() }

// Advance brings time-driven state (boots, deletions, retries, operations)
// up to Now and runs the callbacks.
func (s *Server) Advance() {
	s.mu.Lock()
	s.advanceLocked()
	s.unlock()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.recorder.ServeHTTP(w, r) }

func injectedMessage(status int) string {
	if status == http.StatusTooManyRequests {
		return "Rate Limit Exceeded"
	}
	return "injected error " + strconv.Itoa(status)
}

// writeError answers with the JSON error body of Google APIs.
func writeError(w http.ResponseWriter, status int, msg string) {
	reason, code := "backendError", "INTERNAL"
	switch {
	case status == http.StatusTooManyRequests:
		reason, code = "rateLimitExceeded", "RESOURCE_EXHAUSTED"
	case status == http.StatusNotFound:
		reason, code = "notFound", "NOT_FOUND"
	case status == http.StatusBadRequest:
		reason, code = "invalid", "INVALID_ARGUMENT"
	case status == http.StatusServiceUnavailable:
		code = "UNAVAILABLE"
	}
	body := map[string]any{"error": map[string]any{
		"code": status, "message": msg, "status": code,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}},
	}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeProto answers 200 with m encoded as the REST API does.
func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := protojson.Marshal(m)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "fakegce: encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-07:00") }
