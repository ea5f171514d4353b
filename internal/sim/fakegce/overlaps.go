package fakegce

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// CallerHeader names the client of a request to an OverlapRecorder. A test
// that runs several autoscalers gives each one its own front (for example an
// httptest server) that sets it, since the GCE client cannot.
const CallerHeader = "X-Fakegce-Caller"

// Overlap is a change to a MIG requested by one caller while another
// caller's change to the same MIG was still under way: two autoscalers
// scaling one MIG at once.
type Overlap struct {
	At     time.Time // real time of the second request
	MIG    string    // zone/name
	Busy   string    // the caller whose change was under way
	Caller string    // the caller that asked for another change
	Path   string    // the second request
}

// OverlapRecorder is an http.Handler in front of the fake that records
// overlapping changes (resize, deleteInstances) to a MIG by different
// callers. A caller's change is under way from its request until the
// response is written and the MIG is stable again (no instance creating or
// deleting). It is safe for concurrent use.
type OverlapRecorder struct {
	next   http.Handler
	stable func(zone, name string) bool

	mu       sync.Mutex
	busy     map[string]*change // by zone/name
	overlaps []Overlap
}

type change struct {
	caller    string
	answered  bool
	zone, mig string
}

// NewOverlapRecorder wraps next (the fake's handler); stable reports whether
// a MIG is stable now (for example Server.MIG(zone, name).Stable).
func NewOverlapRecorder(next http.Handler, stable func(zone, name string) bool) *OverlapRecorder {
	return &OverlapRecorder{next: next, stable: stable, busy: map[string]*change{}}
}

// Overlaps returns the overlapping changes recorded so far, in order.
func (o *OverlapRecorder) Overlaps() []Overlap {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Overlap(nil), o.overlaps...)
}

// ServeHTTP implements http.Handler.
func (o *OverlapRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	zone, mig, ok := migChange(r)
	if !ok {
		o.next.ServeHTTP(w, r)
		return
	}
	key, caller := zone+"/"+mig, r.Header.Get(CallerHeader)
	c := &change{caller: caller, zone: zone, mig: mig}
	o.mu.Lock()
	if prev := o.busy[key]; prev != nil && prev.caller != caller && o.underWay(prev) {
		o.overlaps = append(o.overlaps, Overlap{At: time.Now(), MIG: key, Busy: prev.caller, Caller: caller, Path: r.URL.Path})
	}
	o.busy[key] = c
	o.mu.Unlock()

	o.next.ServeHTTP(w, r)

	o.mu.Lock()
	c.answered = true
	o.mu.Unlock()
}

// underWay reports whether a change is still under way; o.mu is held.
func (o *OverlapRecorder) underWay(c *change) bool {
	return !c.answered || !o.stable(c.zone, c.mig)
}

// migChange recognises POST .../zones/{zone}/instanceGroupManagers/{mig}/{resize|deleteInstances}.
func migChange(r *http.Request) (zone, mig string, ok bool) {
	if r.Method != http.MethodPost {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	n := len(parts)
	if n < 5 || parts[n-3] != "instanceGroupManagers" || parts[n-5] != "zones" {
		return "", "", false
	}
	switch parts[n-1] {
	case "resize", "deleteInstances":
		return parts[n-4], parts[n-2], true
	}
	return "", "", false
}
