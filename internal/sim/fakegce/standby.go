package fakegce

import (
	"sort"
	"time"
)

// The standby pool of stopped VMs, as the compute API documents it:
//
//   - targetSize counts the running target only; targetStoppedSize is the
//     pool. stopInstances (RUNNING members only) lowers targetSize and
//     raises targetStoppedSize by the number stopped; startInstances
//     (stopped members only) does the opposite.
//   - standbyPolicy.initialDelaySec (0-3600): a VM is stopped no earlier
//     than that long after its creation (stopInstances' forceStop skips it).
//   - standbyPolicy.mode: MANUAL (default) leaves the pool alone on a
//     resize; SCALE_OUT_POOL makes a resize up start stopped VMs first and
//     then create the rest, and the pool is refilled afterwards.
//   - In both modes, while fewer members than targetStoppedSize exist, the
//     MIG creates VMs and stops them after initialDelaySec; extra members
//     (targetStoppedSize lowered) are deleted.
//   - A stopped VM holds no GPU: a start can fail for capacity like a
//     creation, and the MIG retries it every RetryInterval, logging
//     listErrors items with action STARTING.
const (
	modeManual       = "MANUAL"
	modeScaleOutPool = "SCALE_OUT_POOL"
	maxInitialDelay  = time.Hour
)

func (m *mig) mode() string {
	if m.standbyMode == "" {
		return modeManual
	}
	return m.standbyMode
}

// holdsCapacity reports whether the instance holds a GPU of its zone.
func (in *instance) holdsCapacity() bool {
	switch in.phase {
	case phaseCreating, phaseStopped, phaseStarting:
		return false
	}
	return true
}

// bootTime is how long in stays STAGING: a start from the pool is faster.
func (s *Server) bootTime(in *instance) time.Duration {
	if in.warm {
		return s.opts.StartTime
	}
	return s.opts.BootTime
}

// statusOf returns the instanceStatus and currentAction GCE shows.
func (s *Server) statusOf(in *instance) (string, string) {
	switch {
	case in.phase == phasePreempted:
		return s.preemptedStatusLocked(in) // spot.go
	case in.phase == phaseStopped:
		return s.opts.StoppedStatus, "NONE"
	case in.phase == phaseStarting:
		return s.opts.StoppedStatus, "STARTING"
	case in.phase == phaseStopping:
		return "STOPPING", "STOPPING"
	case in.phase == phaseBooting && in.warm:
		return "STAGING", "STARTING"
	case in.standby && in.phase == phaseRunning:
		return "RUNNING", "STOPPING"
	}
	return in.status()
}

// startLocked takes a stopped member out of the pool and starts it.
func (s *Server) startLocked(m *mig, in *instance, now time.Time) {
	in.standby, in.phase = false, phaseStarting
	s.tryStartLocked(m, in, now)
}

// tryStartLocked starts in unless its zone has no GPU for it, in which case
// the attempt's error is recorded.
func (s *Server) tryStartLocked(m *mig, in *instance, now time.Time) {
	code, msg := s.capacityErrorLocked(m.zone)
	if code == "" {
		in.phase, in.warm, in.bootAt, in.lastErr = phaseBooting, true, now, nil
		return
	}
	s.recordErrorLocked(m, in, now, code, msg, "STARTING")
}

// startFromPoolLocked starts up to k stopped members, oldest first, when
// the MIG's mode is SCALE_OUT_POOL, and returns them.
func (s *Server) startFromPoolLocked(m *mig, k int, now time.Time) []*instance {
	if k <= 0 || m.mode() != modeScaleOutPool {
		return nil
	}
	var out []*instance
	for _, in := range m.instances {
		if len(out) == k {
			break
		}
		if in.standby && in.phase == phaseStopped {
			s.startLocked(m, in, now)
			out = append(out, in)
		}
	}
	return out
}

// advanceStartLocked retries a start that found no capacity.
func (s *Server) advanceStartLocked(m *mig, in *instance, now time.Time) bool {
	if in.phase != phaseStarting {
		return false
	}
	if s.blockedLocked(m.zone) {
		for i := 0; i < 100 && !now.Before(in.lastAttempt.Add(s.opts.RetryInterval)); i++ {
			s.recordErrorLocked(m, in, in.lastAttempt.Add(s.opts.RetryInterval), in.lastErr.code, in.lastErr.message, "STARTING")
		}
		return false
	}
	s.tryStartLocked(m, in, now)
	return true
}

// advanceStopLocked stops a standby member once it runs and its stop time
// has come, and finishes a stop after StopTime.
func (s *Server) advanceStopLocked(m *mig, in *instance, now time.Time) bool {
	changed := false
	if in.standby && in.phase == phaseRunning && !now.Before(in.stopAt) {
		from := in.stopAt
		if ran := in.bootAt.Add(s.bootTime(in)); ran.After(from) {
			from = ran
		}
		in.phase, in.stopAt = phaseStopping, from.Add(s.opts.StopTime)
		changed = true
	}
	if in.phase == phaseStopping && !now.Before(in.stopAt) {
		in.phase = phaseStopped
		s.firedStoppedLocked(m, in)
		changed = true
	}
	return changed
}

// refillPoolLocked creates members while the pool is below
// targetStoppedSize and deletes extra ones, those furthest from stopped and
// the newest first. It reports a change.
func (s *Server) refillPoolLocked(m *mig, now time.Time) bool {
	var members []*instance
	for _, in := range m.instances {
		if in.standby && in.phase != phaseDeleting {
			members = append(members, in)
		}
	}
	for i := len(members); i < m.stoppedTarget; i++ {
		in := s.newInstanceLocked(m, now)
		in.standby, in.stopAt = true, now.Add(m.initialDelay)
		s.tryCreateLocked(m, in, now)
	}
	excess := len(members) - m.stoppedTarget
	if excess > 0 {
		sort.SliceStable(members, func(i, j int) bool {
			if members[i].phase != members[j].phase {
				return members[i].phase < members[j].phase
			}
			return members[i].createdAt.After(members[j].createdAt)
		})
		for _, in := range members[:excess] {
			s.startDeleteLocked(in, now)
		}
	}
	return len(members) != m.stoppedTarget
}

func (s *Server) firedStoppedLocked(m *mig, in *instance) {
	zone, name, inst := m.zone, m.name, in.name
	for _, fn := range s.onStopped {
		s.pending = append(s.pending, func() { fn(zone, name, inst) })
	}
}

// OnInstanceStopped registers fn, called without the lock held whenever an
// instance has stopped (TERMINATED), whether stopInstances stopped it or it
// was created to refill the pool.
func (s *Server) OnInstanceStopped(fn func(zone, mig, instance string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onStopped = append(s.onStopped, fn)
}

// SetStartTime changes how long a start from the pool takes (StartTime).
func (s *Server) SetStartTime(d time.Duration) {
	s.mu.Lock()
	s.opts.StartTime = max(d, 0)
	s.unlock()
}

// SetStandby sets a MIG's standby policy and targetStoppedSize, as a PATCH
// would, and reports whether the MIG exists. An unknown mode or a delay
// outside 0-1h is not checked here: tests use PATCH for that.
func (s *Server) SetStandby(zone, name, mode string, initialDelay time.Duration, stopped int) bool {
	s.mu.Lock()
	defer s.unlock()
	m, ok := s.migs[migKey(zone, name)]
	if !ok {
		return false
	}
	m.standbyMode, m.initialDelay, m.stoppedTarget = mode, initialDelay, max(stopped, 0)
	s.advanceLocked()
	s.notifyLocked()
	return true
}
