package fakenomad

import (
	"maps"
	"time"

	"github.com/hashicorp/nomad/api"
)

// EventKind names a state change recorded by Events.
type EventKind string

// Event kinds.
const (
	EventNodeAdded      EventKind = "node-added"
	EventNodeRemoved    EventKind = "node-removed"
	EventDrainStarted   EventKind = "drain-started"
	EventDrainCompleted EventKind = "drain-completed"
	EventDrainCanceled  EventKind = "drain-canceled"
	EventDrainFailed    EventKind = "drain-failed"
)

// Event is one state change, stamped with Options.Now. Tests use drain
// events to prove that drains overlap and precede deletions.
type Event struct {
	Time time.Time
	// Received is the real time of the event (see Request.Received).
	Received time.Time
	Kind     EventKind
	NodeID   string
	NodeName string
	Message  string
}

type drainState struct {
	spec    api.DrainSpec
	started time.Time
	force   time.Time // zero when the drain has no deadline
	endsAt  time.Time
	failMsg string
}

// SetDrainDuration sets how long a drain takes on nodes without their own
// duration. Drains already running keep their end time.
func (s *Server) SetDrainDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drainDur = d
}

// SetNodeDrainDuration sets how long drains of the named node take.
func (s *Server) SetNodeDrainDuration(nodeName string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodeDrain[nodeName] = d
}

// FailDrain makes drains of the named node fail with message (see the package
// doc for how a failure shows); an empty message clears the injection for
// drains started later.
func (s *Server) FailDrain(nodeName, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if message == "" {
		delete(s.drainFail, nodeName)
		return
	}
	s.drainFail[nodeName] = message
}

// OnDrainComplete registers fn to be called, without the server's lock held,
// with the ID of every node whose drain completes.
func (s *Server) OnDrainComplete(fn func(nodeID string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onComplete = append(s.onComplete, fn)
}

// Events returns a copy of the recorded events, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Advance brings time-driven state (drain completion) up to Now and runs the
// OnDrainComplete callbacks. Requests do this too; call it when driving the
// fake with a fake clock and no request is in flight.
func (s *Server) Advance() {
	s.mu.Lock()
	s.advanceLocked()
	s.unlock()
}

// unlock releases the lock, then runs callbacks for drains that completed.
func (s *Server) unlock() {
	done, fns := s.completed, s.onComplete
	s.completed = nil
	s.mu.Unlock()
	for _, id := range done {
		for _, fn := range fns {
			fn(id)
		}
	}
}

func (s *Server) eventLocked(kind EventKind, nodeID, msg string) {
	name := ""
	if n, ok := s.nodes[nodeID]; ok {
		name = n.spec.Name
	}
	s.events = append(s.events, Event{Time: s.opts.Now(), Received: time.Now(), Kind: kind, NodeID: nodeID, NodeName: name, Message: msg})
}

// advanceLocked completes every drain whose end time has passed.
func (s *Server) advanceLocked() {
	now := s.opts.Now()
	for _, n := range s.nodes {
		d := n.drain
		if d == nil || d.failMsg != "" || now.Before(d.endsAt) {
			continue
		}
		s.completeDrainLocked(n, now)
	}
}

func (s *Server) completeDrainLocked(n *node, now time.Time) {
	d := n.drain
	idx := s.bumpLocked(tableNodes, tableAllocs)
	for _, a := range s.nodeAllocsLocked(n.id) {
		if d.spec.IgnoreSystemJobs && a.spec.JobType == api.JobTypeSystem {
			continue
		}
		if a.client == api.AllocClientStatusRunning || a.client == api.AllocClientStatusPending {
			a.client = api.AllocClientStatusComplete
		}
		a.desired = api.AllocDesiredStatusStop
		a.modifyIndex, a.modifyTime = idx, now
	}
	n.drain = nil
	n.lastDrain.Status = api.DrainStatusComplete
	n.lastDrain.UpdatedAt = now
	n.modifyIndex = idx
	s.eventLocked(EventDrainCompleted, n.id, "")
	s.completed = append(s.completed, n.id)
}

// startDrainLocked starts (or updates) a drain of n.
func (s *Server) startDrainLocked(n *node, spec api.DrainSpec, meta map[string]string) {
	now := s.opts.Now()
	started := now
	if n.drain != nil {
		started = n.drain.started
	}
	d := &drainState{spec: spec, started: started}
	dur := s.drainDur
	if nd, ok := s.nodeDrain[n.spec.Name]; ok {
		dur = nd
	}
	d.endsAt = started.Add(dur)
	switch {
	case spec.Deadline < 0:
		d.force, d.endsAt = now, now
	case spec.Deadline > 0:
		d.force = started.Add(spec.Deadline)
		if d.force.Before(d.endsAt) {
			d.endsAt = d.force
		}
	}
	if msg, ok := s.drainFail[n.spec.Name]; ok {
		d.failMsg = msg
	}
	idx := s.bumpLocked(tableNodes, tableAllocs)
	for _, a := range s.nodeAllocsLocked(n.id) {
		if spec.IgnoreSystemJobs && a.spec.JobType == api.JobTypeSystem {
			continue
		}
		a.migrate = true
		a.modifyIndex = idx
	}
	n.drain = d
	n.eligibility = api.NodeSchedulingIneligible
	n.lastDrain = &api.DrainMetadata{
		StartedAt: started, UpdatedAt: now, Status: api.DrainStatusDraining, Meta: maps.Clone(meta),
	}
	n.modifyIndex = idx
	s.eventLocked(EventDrainStarted, n.id, "")
	if d.failMsg != "" {
		s.eventLocked(EventDrainFailed, n.id, d.failMsg)
	}
}

// cancelDrainLocked stops a drain without stopping the remaining allocations.
func (s *Server) cancelDrainLocked(n *node, markEligible bool) {
	now := s.opts.Now()
	idx := s.bumpLocked(tableNodes, tableAllocs)
	if n.drain != nil {
		for _, a := range s.nodeAllocsLocked(n.id) {
			a.migrate = false
			a.modifyIndex = idx
		}
		n.drain = nil
		if n.lastDrain != nil {
			n.lastDrain.Status = api.DrainStatusCanceled
			n.lastDrain.UpdatedAt = now
		}
		s.eventLocked(EventDrainCanceled, n.id, "")
	}
	if markEligible {
		n.eligibility = api.NodeSchedulingEligible
	}
	n.modifyIndex = idx
}

// drainStrategy renders a drain as the API's DrainStrategy.
func (d *drainState) strategy() *api.DrainStrategy {
	if d == nil {
		return nil
	}
	return &api.DrainStrategy{DrainSpec: d.spec, ForceDeadline: d.force, StartedAt: d.started}
}
