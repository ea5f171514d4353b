package maintenance

import (
	"errors"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

var (
	t0        = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	defaults  = timing{notice: time.Hour, margin: 5 * time.Minute, drainDelay: 10 * time.Minute, preemptDeadline: 20 * time.Second}
	terminate = hostState{maintenance: maintenanceTerminate, preempted: preemptedFalse}
	quiet     = hostState{maintenance: maintenanceNone, preempted: preemptedFalse}
	preempted = hostState{maintenance: maintenanceNone, preempted: preemptedTrue}
)

func maintenanceNotice(seen time.Time) nodeops.Notice {
	return nodeops.NewNotice(nodeops.KindMaintenance, seen, time.Hour)
}

func markedNode(n nodeops.Notice) nodeState { return nodeState{notice: n, marked: true} }

func TestDecide(t *testing.T) {
	notice := maintenanceNotice(t0)
	preemption := nodeops.NewNotice(nodeops.KindPreemption, t0, 30*time.Second)
	cases := []struct {
		name string
		host hostState
		node nodeState
		now  time.Time
		want step
	}{
		{
			name: "a maintenance notice is acted on before preempted is read",
			host: hostState{maintenance: maintenanceTerminate},
			want: step{mark: &notice, wakeAt: t0.Add(10 * time.Minute)},
		},
		{
			name: "a notice is not cleared while a key is unread",
			host: hostState{maintenance: maintenanceNone},
			node: markedNode(notice),
		},
		{
			name: "a notice is not cleared on a value the documentation does not list",
			host: hostState{maintenance: "<html>", preempted: preemptedFalse},
			node: markedNode(notice),
		},
		{name: "a quiet host with an unmarked node needs nothing", host: quiet},
		{
			name: "a live migration keeps the VM: nothing to do",
			host: hostState{maintenance: maintenanceMigrate, preempted: preemptedFalse},
		},
		{
			name: "a maintenance notice marks the node at once and drains after the delay",
			host: terminate,
			want: step{mark: &notice, wakeAt: t0.Add(10 * time.Minute)},
		},
		{
			name: "the drain starts after the delay and ends the margin before the host goes away",
			host: terminate,
			node: markedNode(notice),
			now:  t0.Add(10 * time.Minute),
			want: step{drain: true, deadline: 45 * time.Minute},
		},
		{
			name: "a restart after the delay drains with the time left from the stored notice",
			host: terminate,
			node: markedNode(notice),
			now:  t0.Add(40 * time.Minute),
			want: step{drain: true, deadline: 15 * time.Minute},
		},
		{
			name: "a node already draining for this notice is not drained twice",
			host: terminate,
			node: nodeState{notice: notice, marked: true, draining: true, forceDeadline: t0.Add(55 * time.Minute), lastDrainFor: noticeID(notice)},
			now:  t0.Add(20 * time.Minute),
		},
		{
			name: "a node drained after this notice, even canceled since, is not drained twice",
			host: terminate,
			node: nodeState{notice: notice, marked: true, lastDrainFor: noticeID(notice)},
			now:  t0.Add(30 * time.Minute),
		},
		{
			name: "a scale-in drain that ends in time is left alone",
			host: terminate,
			node: nodeState{notice: notice, marked: true, draining: true, forceDeadline: t0.Add(15 * time.Minute), lastDrainFor: ""},
			now:  t0.Add(10 * time.Minute),
		},
		{
			name: "a drain older than the notice without a deadline gets one",
			host: terminate,
			node: nodeState{notice: notice, marked: true, draining: true, lastDrainFor: ""},
			now:  t0.Add(10 * time.Minute),
			want: step{drain: true, deadline: 45 * time.Minute},
		},
		{
			name: "a drain this late stops everything at once",
			host: terminate,
			node: markedNode(notice),
			now:  t0.Add(56 * time.Minute),
			want: step{drain: true, deadline: -1},
		},
		{
			name: "a malformed notice is rewritten as a new one",
			host: terminate,
			node: nodeState{marked: true, noticeErr: errors.New("bad"), notice: nodeops.Notice{Kind: nodeops.KindMaintenance}},
			want: step{mark: &notice, wakeAt: t0.Add(10 * time.Minute)},
		},
		{
			name: "a preemption marks the node and drains at once under 30 s",
			host: preempted,
			want: step{mark: &preemption, drain: true, deadline: 20 * time.Second},
		},
		{
			name: "a preemption overrides a maintenance drain that ends later",
			host: hostState{maintenance: maintenanceTerminate, preempted: preemptedTrue},
			node: nodeState{notice: maintenanceNotice(t0.Add(-20 * time.Minute)), marked: true, draining: true,
				forceDeadline: t0.Add(35 * time.Minute), lastDrainFor: noticeID(maintenanceNotice(t0.Add(-20 * time.Minute)))},
			want: step{mark: &preemption, drain: true, deadline: 20 * time.Second},
		},
		{
			name: "a restart during a preemption does not drain twice",
			host: preempted,
			node: nodeState{notice: preemption, marked: true, draining: true, forceDeadline: t0.Add(20 * time.Second), lastDrainFor: noticeID(preemption)},
			now:  t0.Add(5 * time.Second),
		},
		{
			name: "a preemption drain never outlasts the VM",
			host: preempted,
			node: markedNode(preemption),
			now:  t0.Add(15 * time.Second),
			want: step{drain: true, deadline: 15 * time.Second},
		},
		{
			name: "a withdrawn notice is cleared",
			host: quiet,
			node: markedNode(notice),
			now:  t0.Add(5 * time.Minute),
			want: step{clear: true},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = t0
			}
			got := decide(c.host, c.node, now, defaults)
			got.reason = ""
			must.Eq(t, c.want, got)
		})
	}
}

// Whatever the node and host say, a decision never asks Nomad for a drain
// without a deadline (0) and never keeps a drain past the host's leaving.
func FuzzDecideAlwaysBoundsTheDrain(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), false, false, true)
	f.Add(int64(3600), int64(600), int64(1200), true, true, false)
	f.Fuzz(func(t *testing.T, nowSec, seenSec, lastDrainSec int64, marked, draining, preempt bool) {
		host := terminate
		if preempt {
			host = preempted
		}
		n := nodeState{marked: marked, draining: draining}
		if marked {
			n.notice = maintenanceNotice(t0.Add(time.Duration(seenSec%7200) * time.Second))
		}
		if lastDrainSec != 0 {
			n.lastDrainFor = noticeID(maintenanceNotice(t0.Add(time.Duration(lastDrainSec%7200) * time.Second)))
		}
		now := t0.Add(time.Duration(nowSec%7200) * time.Second)
		s := decide(host, n, now, defaults)
		if !s.drain {
			return
		}
		if s.deadline == 0 {
			t.Fatal("a drain without a deadline")
		}
		notice := n.notice
		if s.mark != nil {
			notice = *s.mark
		}
		if s.deadline > 0 && now.Add(s.deadline).After(notice.LeavingAt) {
			t.Fatalf("drain ends %s after the host leaves", now.Add(s.deadline).Sub(notice.LeavingAt))
		}
	})
}
