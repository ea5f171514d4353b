package fakegce

import (
	"sort"
	"time"
)

// phase is where an instance is in its life.
type phase int

const (
	phaseCreating phase = iota // waiting for capacity (stockout, quota) or about to boot
	phaseBooting               // STAGING for BootTime
	phaseRunning
	phaseDeleting
	// The standby pool's phases (standby.go): a stopped VM holds no GPU.
	phaseStopping // STOPPING for StopTime
	phaseStopped  // TERMINATED (or Options.StoppedStatus)
	phaseStarting // waiting for capacity to start (a stockout on start)
)

type instance struct {
	name        string
	id          uint64
	phase       phase
	createdAt   time.Time
	bootAt      time.Time
	deleteAt    time.Time
	lastAttempt time.Time // last creation attempt that failed
	lastErr     *igmError
	// standby marks a member of the stopped pool (targetStoppedSize):
	// stopped, stopping, or on its way there (stopInstances, or created
	// to refill the pool); it stops at stopAt once RUNNING.
	standby bool
	stopAt  time.Time
	// warm marks a boot that is a start from the pool (StartTime).
	warm bool
	// template is the instance template the VM was created from
	// (versions.go); recreate marks a VM deleted by a RECREATE update,
	// created again under its name once gone.
	template string
	recreate bool
	// replaced marks an outdated VM an update deletes: the version target
	// is reached once it is gone.
	replaced bool
}

type igmError struct {
	at       time.Time
	code     string
	message  string
	instance string
	action   string
	template string
}

type mig struct {
	zone      string
	name      string
	id        uint64
	created   time.Time
	target    int
	instances []*instance // creation order
	errors    []igmError  // oldest first
	// The standby pool (standby.go): targetStoppedSize and standbyPolicy.
	stoppedTarget int
	standbyMode   string
	initialDelay  time.Duration
	// versions and policy are the MIG's versions and updatePolicy
	// (versions.go).
	versions []version
	policy   updatePolicy
}

func migKey(zone, name string) string { return zone + "/" + name }

// AddMIG creates a MIG whose size instances are already RUNNING. Callbacks
// registered with OnInstanceRunning are called for them. An existing MIG of
// the same name is replaced.
func (s *Server) AddMIG(zone, name string, size int) {
	s.mu.Lock()
	defer s.unlock()
	s.seq++
	now := s.opts.Now()
	m := &mig{zone: zone, name: name, id: 5000000000000000000 + s.seq, created: now, target: size,
		policy: defaultUpdatePolicy()}
	tmpl := s.addTemplateLocked(name+"-template", "g2-standard-8", "")
	m.versions = []version{{name: "v1", template: tmpl.name}}
	s.migs[migKey(zone, name)] = m
	s.zoneLocked(zone)
	for range size {
		in := s.newInstanceLocked(m, now)
		in.phase = phaseRunning
		s.firedRunningLocked(m, in)
	}
	s.notifyLocked()
}

func (s *Server) newInstanceLocked(m *mig, now time.Time) *instance {
	for {
		s.seq++
		name := m.name + "-" + suffix(s.seq*2654435761+m.id)
		if m.find(name) == nil {
			in := &instance{name: name, id: 7000000000000000000 + s.seq, createdAt: now, template: m.nextTemplate()}
			m.instances = append(m.instances, in)
			return in
		}
	}
}

// suffix returns four characters from [a-z0-9], as GCE appends to
// the base instance name.
func suffix(n uint64) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 4)
	for i := range b {
		b[i] = chars[n%uint64(len(chars))]
		n /= uint64(len(chars))
	}
	return string(b)
}

func (m *mig) find(name string) *instance {
	for _, in := range m.instances {
		if in.name == name {
			return in
		}
	}
	return nil
}

// live returns the instances of the running target (targetSize) that are
// not being deleted (or are, only to be recreated under their name): the
// standby pool is not resized.
func (m *mig) live() []*instance {
	var out []*instance
	for _, in := range m.instances {
		if (in.phase != phaseDeleting || in.recreate) && !in.standby {
			out = append(out, in)
		}
	}
	return out
}

// resizeLocked applies a resize: create or pick instances to delete.
func (s *Server) resizeLocked(m *mig, size int) {
	now := s.opts.Now()
	m.target = size
	live := m.live()
	// In SCALE_OUT_POOL mode a scale-out starts stopped VMs first.
	live = append(live, s.startFromPoolLocked(m, size-len(live), now)...)
	for i := len(live); i < size; i++ {
		s.tryCreateLocked(m, s.newInstanceLocked(m, now), now)
	}
	if excess := len(live) - size; excess > 0 {
		// GCE removes instances that are not running yet first; among
		// equals, those not on their target version.
		outdated, _ := m.assign()
		sort.SliceStable(live, func(i, j int) bool {
			if live[i].phase != live[j].phase {
				return live[i].phase < live[j].phase
			}
			if oi, oj := isOutdated(live[i], outdated), isOutdated(live[j], outdated); oi != oj {
				return oi
			}
			return live[i].createdAt.After(live[j].createdAt)
		})
		for _, in := range live[:excess] {
			s.startDeleteLocked(in, now)
		}
	}
	s.refillPoolLocked(m, now)
	s.notifyLocked()
}

func (s *Server) startDeleteLocked(in *instance, now time.Time) {
	in.phase, in.recreate = phaseDeleting, false
	in.deleteAt = now.Add(s.opts.DeleteTime)
}

// tryCreateLocked attempts to create an instance: it boots unless the zone
// has no capacity, in which case the attempt's error is recorded.
func (s *Server) tryCreateLocked(m *mig, in *instance, now time.Time) {
	code, msg := s.capacityErrorLocked(m.zone)
	if code == "" {
		code, msg = s.spotErrorLocked(m, in) // spot.go
	}
	if code == "" {
		in.phase, in.bootAt, in.lastErr = phaseBooting, now, nil
		return
	}
	s.recordErrorLocked(m, in, now, code, msg, "CREATING")
}

// capacityErrorLocked returns the error code and message GCE gives a VM
// that cannot get a GPU in zone now (created or started), or "" when it can.
func (s *Server) capacityErrorLocked(zone string) (code, msg string) {
	z := s.zoneLocked(zone)
	switch {
	case z.stockout || (z.capacity >= 0 && s.createdInZoneLocked(zone) >= z.capacity):
		return s.opts.StockoutCode, "The zone '" + "projects/" + s.opts.Project + "/zones/" + zone +
			"' does not have enough resources available to fulfill the request. Try a different zone, or try again later."
	case z.quota:
		return "QUOTA_EXCEEDED", "Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region " + region(zone) + "."
	}
	return "", ""
}

// recordErrorLocked records a failed attempt on in, for its lastAttempt
// and listErrors.
func (s *Server) recordErrorLocked(m *mig, in *instance, now time.Time, code, msg, action string) {
	e := igmError{at: now, code: code, message: msg, instance: InstanceURL(s.opts.Project, m.zone, in.name), action: action, template: in.template}
	in.lastAttempt, in.lastErr = now, &e
	m.errors = append(m.errors, e)
	if len(m.errors) > maxErrorsPerMIG {
		m.errors = m.errors[len(m.errors)-maxErrorsPerMIG:]
	}
}

// createdInZoneLocked counts the zone's instances that hold capacity.
func (s *Server) createdInZoneLocked(zone string) int {
	n := 0
	for _, m := range s.migs {
		if m.zone != zone {
			continue
		}
		for _, in := range m.instances {
			if in.holdsCapacity() {
				n++
			}
		}
	}
	return n
}

// blockedLocked reports whether instances cannot be created in zone now.
func (s *Server) blockedLocked(zone string) bool {
	z := s.zoneLocked(zone)
	return z.stockout || z.quota || (z.capacity >= 0 && s.createdInZoneLocked(zone) >= z.capacity)
}

// region drops the zone letter: europe-west4-a -> europe-west4.
func region(zone string) string {
	for i := len(zone) - 1; i >= 0; i-- {
		if zone[i] == '-' {
			return zone[:i]
		}
	}
	return zone
}

// advanceLocked moves every instance along its life up to Now.
func (s *Server) advanceLocked() {
	now := s.opts.Now()
	changed := false
	for _, m := range s.migs {
		kept := m.instances[:0]
		for _, in := range m.instances {
			// A start from the pool boots like a creation; a standby
			// member that is RUNNING then stops: both in one pass.
			if s.advanceStartLocked(m, in, now) {
				changed = true
			}
			if s.advanceInstanceLocked(m, in, now) {
				changed = true
			}
			if s.advanceStopLocked(m, in, now) {
				changed = true
			}
			if s.advancePreemptedLocked(m, in, now) { // spot.go
				changed = true
			}
			if in.phase == phaseDeleting && !now.Before(in.deleteAt) {
				s.firedDeletedLocked(m, in)
				changed = true
				if in.recreate {
					s.recreateLocked(m, in, now)
				} else {
					continue
				}
			}
			kept = append(kept, in)
		}
		clear(m.instances[len(kept):])
		m.instances = kept
		if s.refillPoolLocked(m, now) {
			changed = true
		}
		if s.rollLocked(m, now) {
			changed = true
		}
	}
	s.advanceOpsLocked(now)
	if changed {
		s.notifyLocked()
	}
}

// advanceInstanceLocked retries a blocked creation and finishes a boot; an
// instance may go through both in one pass. It reports a visible change.
func (s *Server) advanceInstanceLocked(m *mig, in *instance, now time.Time) bool {
	changed := false
	if in.phase == phaseCreating {
		if s.blockedLocked(m.zone) || s.spotBlockedLocked(m, in) {
			// Replay the retries GCE made since the last look, each one
			// logging an error, so a clock jump does not hide them.
			for i := 0; i < 100 && !now.Before(in.lastAttempt.Add(s.opts.RetryInterval)); i++ {
				s.tryCreateLocked(m, in, in.lastAttempt.Add(s.opts.RetryInterval))
			}
		} else {
			s.tryCreateLocked(m, in, now)
			changed = true
		}
	}
	if in.phase == phaseBooting && !now.Before(in.bootAt.Add(s.bootTime(in))) {
		in.phase, in.warm = phaseRunning, false
		if !in.standby {
			// A VM created to refill the pool is stopped without joining
			// the cluster (see OnInstanceRunning).
			s.firedRunningLocked(m, in)
		}
		changed = true
	}
	return changed
}

func (s *Server) firedRunningLocked(m *mig, in *instance) {
	zone, name, inst := m.zone, m.name, in.name
	for _, fn := range s.onRunning {
		s.pending = append(s.pending, func() { fn(zone, name, inst) })
	}
}

func (s *Server) firedDeletedLocked(m *mig, in *instance) {
	zone, name, inst := m.zone, m.name, in.name
	for _, fn := range s.onDeleted {
		s.pending = append(s.pending, func() { fn(zone, name, inst) })
	}
}

// OnInstanceRunning registers fn, called without the lock held whenever an
// instance becomes RUNNING (including the initial instances of AddMIG and
// instances started from the standby pool), except one created to refill
// the pool: it is stopped after initialDelaySec and never serves.
func (s *Server) OnInstanceRunning(fn func(zone, mig, instance string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRunning = append(s.onRunning, fn)
}

// OnInstanceDeleted registers fn, called without the lock held whenever a
// deleted instance is gone from its MIG.
func (s *Server) OnInstanceDeleted(fn func(zone, mig, instance string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onDeleted = append(s.onDeleted, fn)
}

// SetStockout turns a zone's stockout on or off. While on, instances being
// created there fail with ZONE_RESOURCE_POOL_EXHAUSTED.
func (s *Server) SetStockout(zone string, on bool) {
	s.mu.Lock()
	s.zoneLocked(zone).stockout = on
	s.advanceLocked()
	s.unlock()
}

// SetQuotaExceeded turns a zone's GPU quota exhaustion on or off. While on,
// instances being created there fail with QUOTA_EXCEEDED.
func (s *Server) SetQuotaExceeded(zone string, on bool) {
	s.mu.Lock()
	s.zoneLocked(zone).quota = on
	s.advanceLocked()
	s.unlock()
}

// SetCapacity limits how many instances can exist in zone across its MIGs;
// creations beyond it fail with ZONE_RESOURCE_POOL_EXHAUSTED until capacity
// frees up (a partial stockout). A negative n removes the limit.
func (s *Server) SetCapacity(zone string, n int) {
	s.mu.Lock()
	s.zoneLocked(zone).capacity = max(n, -1)
	s.advanceLocked()
	s.unlock()
}

// Capacity returns the zone's instance limit, -1 when unlimited.
func (s *Server) Capacity(zone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zoneLocked(zone).capacity
}

// Stockout reports whether stockout is injected in zone.
func (s *Server) Stockout(zone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zoneLocked(zone).stockout
}

// QuotaExceeded reports whether quota exhaustion is injected in zone.
func (s *Server) QuotaExceeded(zone string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zoneLocked(zone).quota
}
