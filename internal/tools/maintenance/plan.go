package maintenance

import (
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

// The values of the watched keys, as the GCE documentation lists them.
const (
	maintenanceNone      = "NONE"
	maintenanceMigrate   = "MIGRATE_ON_HOST_MAINTENANCE"
	maintenanceTerminate = "TERMINATE_ON_HOST_MAINTENANCE"
	preemptedTrue        = "TRUE"
	preemptedFalse       = "FALSE"
)

// preemptionLead is how long a Spot VM runs after instance/preempted
// becomes TRUE: GCE sends the ACPI soft-off and stops the VM 30 s later.
const preemptionLead = 30 * time.Second

// hostState is what the metadata server last answered for each key; ""
// until the first answer.
type hostState struct {
	maintenance string
	preempted   string
}

// valid reports whether the key's value is one the documentation lists.
func validValue(key, v string) bool {
	switch key {
	case keyMaintenance:
		return v == maintenanceNone || v == maintenanceMigrate || v == maintenanceTerminate
	case keyPreempted:
		return v == preemptedTrue || v == preemptedFalse
	}
	return false
}

// want is the notice the host's state calls for. decided is false while a
// key has not been read yet or holds a value the documentation does not
// list, and nothing should be cleared on its account. A live migration
// (MIGRATE_ON_HOST_MAINTENANCE) keeps the VM: no notice.
func (h hostState) want() (kind nodeops.Kind, leaving, decided bool) {
	switch {
	case h.preempted == preemptedTrue:
		return nodeops.KindPreemption, true, true
	case h.maintenance == maintenanceTerminate:
		return nodeops.KindMaintenance, true, true
	case validValue(keyMaintenance, h.maintenance) && validValue(keyPreempted, h.preempted):
		return "", false, true
	}
	return "", false, false
}

// nodeState is what Nomad says of the daemon's own node.
type nodeState struct {
	notice nodeops.Notice
	marked bool
	// noticeErr is set when the node is marked but a value is malformed.
	noticeErr error
	draining  bool
	// forceDeadline is when the running drain stops what is left; zero
	// when not draining or draining without a deadline.
	forceDeadline time.Time
	// lastDrainFor is the noticeID that the node's last drain (running or
	// not) was started for; "" when it was not started by this daemon.
	lastDrainFor string
}

// noticeID names a notice in the Meta of the drain started for it, so a
// restarted daemon knows the drain was started for this very notice
// without comparing its clock to the Nomad servers'.
func noticeID(n nodeops.Notice) string {
	return string(n.Kind) + "@" + n.NoticedAt.UTC().Format(time.RFC3339)
}

// timing is the part of the configuration the decision needs.
type timing struct {
	notice          time.Duration // a maintenance notice's lead
	margin          time.Duration // a maintenance drain ends this long before the host goes away
	drainDelay      time.Duration // a maintenance drain starts this long after the notice
	preemptDeadline time.Duration // the drain deadline after a preemption notice
}

// step is what to do now, and when to look again.
type step struct {
	mark  *nodeops.Notice // write this notice
	clear bool            // delete the notice
	drain bool
	// deadline is the drain's DrainSpec.Deadline; -1 stops everything at
	// once (Nomad reads 0 as no deadline, so 0 is never used).
	deadline time.Duration
	// wakeAt is when to decide again (the drain's start); zero for never.
	wakeAt time.Time
	reason string
}

// decide is the daemon's whole policy, a function of what the metadata
// server and Nomad say now. It is restart-safe because everything it needs
// to remember is in the node: the notice (with the time it was first seen)
// in the node's metadata and, in the Meta of the node's LastDrain, the
// notice its drain was started for.
func decide(h hostState, n nodeState, now time.Time, t timing) step {
	kind, leaving, decided := h.want()
	switch {
	case !decided:
		return step{reason: "waiting for a value the documentation lists from every watched key"}
	case !leaving && n.marked:
		return step{clear: true, reason: "the metadata server announces no event: the notice is over or withdrawn"}
	case !leaving:
		return step{reason: "no event announced"}
	}

	var s step
	notice := n.notice
	if !n.marked || n.noticeErr != nil || notice.Kind != kind {
		lead := t.notice
		if kind == nodeops.KindPreemption {
			lead = preemptionLead
		}
		notice = nodeops.NewNotice(kind, now, lead)
		s.mark = &notice
	}

	start, deadline := notice.NoticedAt, min(t.preemptDeadline, notice.LeavingAt.Sub(now))
	if kind == nodeops.KindMaintenance {
		start, deadline = notice.NoticedAt.Add(t.drainDelay), notice.LeavingAt.Sub(now)-t.margin
	}
	switch {
	case n.lastDrainFor == noticeID(notice):
		s.reason = "the node was drained for this notice: never twice"
	case n.draining && !n.forceDeadline.IsZero() && !n.forceDeadline.After(now.Add(deadline)):
		s.reason = "a drain already running ends in time"
	case now.Before(start):
		// Until then the node keeps serving while the autoscaler, which no
		// longer counts it, brings a replacement up.
		s.wakeAt, s.reason = start, "the drain starts after the delay for a replacement"
	default:
		s.drain, s.deadline, s.reason = true, deadline, "the host is leaving"
		if deadline < time.Second {
			s.deadline, s.reason = -1, "the host is leaving and the drain is late: stop everything at once"
		}
	}
	return s
}
