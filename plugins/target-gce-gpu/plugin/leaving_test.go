package plugin

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

// The pure decisions of host maintenance (leaving.go).

var maintenanceNoticed = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// noticed returns a ready node whose host was announced for maintenance at
// maintenanceNoticed, leaving an hour later, registered long before.
func noticed(name, zone string) nomadNode {
	n := nodeops.NewNotice(nodeops.KindMaintenance, maintenanceNoticed, time.Hour)
	return nomadNode{
		ID: name, Name: name, Instance: name, Zone: zone, Status: api.NodeStatusReady,
		Notice: &n, StatusUpdatedAt: maintenanceNoticed.Add(-24 * time.Hour),
	}
}

func TestPhaseOf(t *testing.T) {
	t.Parallel()
	leavingAt := maintenanceNoticed.Add(time.Hour)
	with := func(change func(*nomadNode)) nomadNode {
		n := noticed("n1", zoneA)
		change(&n)
		return n
	}
	cases := []struct {
		name string
		node nomadNode
		now  time.Time
		want leavingPhase
	}{
		{"a node without a notice is capacity", nomadNode{Status: api.NodeStatusReady}, leavingAt, leavingNone},
		{"a node announced an hour ahead is leaving at once", noticed("n1", zoneA), maintenanceNoticed, leavingAnnounced},
		{"a node being drained by the daemon is leaving", with(func(n *nomadNode) { n.Draining = true }), maintenanceNoticed.Add(20 * time.Minute), leavingAnnounced},
		{"a node whose host is away is leaving", with(func(n *nomadNode) { n.Status = api.NodeStatusDown }), leavingAt.Add(5 * time.Minute), leavingAnnounced},
		{
			"a node ready and drained after leaving_at that never went away is still leaving (the maintenance is late)",
			with(func(n *nomadNode) { n.Eligible = false }), leavingAt.Add(10 * time.Minute), leavingAnnounced,
		},
		{
			"a node ready again after leaving_at that re-registered since the notice is back",
			with(func(n *nomadNode) { n.StatusUpdatedAt = leavingAt.Add(3 * time.Minute) }), leavingAt.Add(4 * time.Minute), leavingBack,
		},
		{
			"a node that re-registered but whose leaving_at has not come is still leaving",
			with(func(n *nomadNode) { n.StatusUpdatedAt = maintenanceNoticed.Add(time.Minute) }), maintenanceNoticed.Add(2 * time.Minute), leavingAnnounced,
		},
		{"a notice an hour past its leaving_at on a node that never went away is stale: back", noticed("n1", zoneA), leavingAt.Add(leavingStale), leavingBack},
		{
			"a preemption notice whose VM came back is back too",
			with(func(n *nomadNode) {
				p := nodeops.NewNotice(nodeops.KindPreemption, maintenanceNoticed, 30*time.Second)
				n.Notice, n.StatusUpdatedAt = &p, maintenanceNoticed.Add(2*time.Minute)
			}),
			maintenanceNoticed.Add(3 * time.Minute), leavingBack,
		},
		{
			"a notice without a readable leaving_at stays leaving: nobody can tell when it is back",
			with(func(n *nomadNode) {
				n.Notice.LeavingAt, n.NoticeErr = time.Time{}, errors.New("node meta nomad_autoscaler.leaving_at: missing")
				n.StatusUpdatedAt = leavingAt.Add(time.Hour)
			}),
			leavingAt.Add(3 * leavingStale), leavingAnnounced,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, phaseOf(tc.node, tc.now))
		})
	}
}

func TestLeavingByZone(t *testing.T) {
	t.Parallel()
	now := maintenanceNoticed.Add(time.Minute)
	running := func(names ...string) []managedInstance {
		var out []managedInstance
		for _, n := range names {
			out = append(out, managedInstance{Name: n, Status: instanceRunning, CurrentAction: actionNone})
		}
		return out
	}
	zones := func() []zoneView {
		return []zoneView{
			{Ref: migRef{Zone: zoneA, Name: migA}, State: migState{TargetSize: 3}, Instances: running("a1", "a2", "a3")},
			{Ref: migRef{Zone: zoneB, Name: migB}, State: migState{TargetSize: 2}, Instances: running("b1", "b2")},
		}
	}
	plain := func(name, zone string) nomadNode {
		return nomadNode{ID: name, Name: name, Instance: name, Zone: zone, Status: api.NodeStatusReady, Eligible: true}
	}
	cases := []struct {
		name  string
		zones []zoneView
		nodes []nomadNode
		want  map[string]int64
	}{
		{"no notice, nothing leaving", zones(), []nomadNode{plain("a1", zoneA), plain("b1", zoneB)}, map[string]int64{}},
		{
			"each announced worker counts in its own zone",
			zones(), []nomadNode{noticed("a1", zoneA), noticed("a2", zoneA), noticed("b2", zoneB), plain("b1", zoneB)},
			map[string]int64{zoneA: 2, zoneB: 1},
		},
		{
			"a worker whose host is back counts as capacity again",
			zones(), []nomadNode{func() nomadNode {
				n := noticed("a1", zoneA)
				early := nodeops.NewNotice(nodeops.KindMaintenance, now.Add(-2*time.Hour), time.Hour)
				n.Notice, n.StatusUpdatedAt = &early, now.Add(-30*time.Minute)
				return n
			}()},
			map[string]int64{},
		},
		{
			"an instance being deleted no longer counts in the target size: not subtracted",
			func() []zoneView {
				z := zones()
				z[0].Instances[0].CurrentAction = actionDeleting
				return z
			}(),
			[]nomadNode{noticed("a1", zoneA)},
			map[string]int64{},
		},
		{"a node whose instance is not in the policy's MIGs is not ours", zones(), []nomadNode{noticed("c1", "zone-c")}, map[string]int64{}},
		{
			"a recreated instance's old down node with its notice does not hide the new worker",
			zones(),
			[]nomadNode{
				func() nomadNode {
					n := noticed("a1", zoneA)
					n.Status, n.CreateIndex = api.NodeStatusDown, 10
					return n
				}(),
				func() nomadNode { n := plain("a1", zoneA); n.CreateIndex = 20; return n }(),
			},
			map[string]int64{},
		},
		{
			"a node in the standby pool with its standby marker is not in the target size",
			zones(),
			[]nomadNode{func() nomadNode {
				n := noticed("a1", zoneA)
				n.Marker = &scaleInMarker{Policy: "p", Standby: true}
				return n
			}()},
			map[string]int64{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := leavingByZone(tc.zones, tc.nodes, now)
			must.Eq(t, tc.want, got)
			var leaving int64
			for _, k := range got {
				leaving += k
			}
			must.Eq(t, 5-leaving, servingTotal(observation{Zones: tc.zones}, got), must.Sprint("Count is the target sizes without the leaving workers"))
		})
	}
}

func TestPoolSettledButLeaving(t *testing.T) {
	t.Parallel()
	draining := noticed("a1", zoneA)
	draining.Draining = true
	cases := []struct {
		name  string
		nodes []nomadNode
		want  bool
	}{
		{"a leaving node drained by the daemon does not hold the policy", []nomadNode{draining, {Status: api.NodeStatusReady}}, true},
		{"a scale-in's own drain does", []nomadNode{draining, {Status: api.NodeStatusReady, Draining: true}}, false},
		{"an initializing node does", []nomadNode{draining, {Status: api.NodeStatusInit}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, poolSettledButLeaving(tc.nodes))
		})
	}
}

func TestPlanReconcileLeavesALeavingNodeToTheDaemon(t *testing.T) {
	t.Parallel()
	base := markedNode{NodeName: "n1", Zone: "a", DesiredSize: 1, NodeReady: true, InMIG: true, Leaving: true}
	for name, n := range map[string]markedNode{
		"drained, its MIG above the desired size (not deleted)":                 func() markedNode { n := base; n.Drained = true; return n }(),
		"still draining (not waited for)":                                       func() markedNode { n := base; n.Draining = true; return n }(),
		"never drained (not given back, which would cancel the daemon's drain)": base,
		"with a standby marker (not given back)":                                func() markedNode { n := base; n.Standby = true; return n }(),
	} {
		t.Run(name, func(t *testing.T) {
			got := planReconcile([]markedNode{n}, map[string]int64{"a": 5})
			must.Eq(t, reconcileForget, got[0].Kind)
		})
	}
}
