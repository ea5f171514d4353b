package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestPoolSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		size  int64
		zones []poolZone
		want  []int64
	}{
		{"no pool keeps nothing anywhere", 0, []poolZone{{Members: 2}, {}}, []int64{0, 0}},
		{"four stopped VMs split evenly", 4, []poolZone{{}, {}}, []int64{2, 2}},
		{"an odd pool puts the extra VM in the first zone", 3, []poolZone{{}, {}}, []int64{2, 1}},
		{"a zone in stockout keeps what it has and the other takes its share", 4, []poolZone{{Members: 1, Stockout: true}, {}}, []int64{1, 3}},
		{"a zone in stockout with an empty pool gets nothing", 4, []poolZone{{Stockout: true}, {}}, []int64{0, 4}},
		{"a zone in stockout above its share gives the excess up", 2, []poolZone{{Members: 3, Stockout: true}, {}}, []int64{1, 1}},
		{"every zone in stockout keeps only what exists", 4, []poolZone{{Members: 1, Stockout: true}, {Stockout: true}}, []int64{1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, poolSplit(tc.size, tc.zones))
		})
	}
}

func TestPlanGrowth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		want         int64
		zones        []growZone
		plan         []zoneGrowth
		wantUnplaced int64
	}{
		{"without a pool every new worker is created round-robin", 5, []growZone{{}, {}},
			[]zoneGrowth{{0, 3}, {0, 2}}, 0},
		{"a full pool serves the whole surge round-robin", 6, []growZone{{Floor: 1, Stopped: 2}, {Floor: 1, Stopped: 2}},
			[]zoneGrowth{{2, 3}, {2, 3}}, 0},
		{"stopped VMs go first and the rest is created", 9, []growZone{{Floor: 1, Stopped: 1}, {Floor: 1, Stopped: 1}},
			[]zoneGrowth{{1, 5}, {1, 4}}, 0},
		{"a zone with an empty pool hands its warm share to the zone with stopped VMs", 6, []growZone{{Floor: 2, Stopped: 2}, {Floor: 2}},
			[]zoneGrowth{{2, 4}, {0, 2}}, 0},
		{"created workers even out what the uneven pool left", 9, []growZone{{Floor: 2, Stopped: 2}, {Floor: 2}},
			[]zoneGrowth{{2, 5}, {0, 4}}, 0},
		{"a zone in stockout neither starts nor creates", 6, []growZone{{Floor: 2, Stopped: 2, Stockout: true}, {Floor: 2, Stopped: 1}},
			[]zoneGrowth{{0, 2}, {1, 4}}, 0},
		{"workers no zone can take are reported", 4, []growZone{{Floor: 1, Stockout: true}, {Floor: 1, Stockout: true}},
			[]zoneGrowth{{0, 1}, {0, 1}}, 2},
		{"a count already reached starts nothing", 4, []growZone{{Floor: 2, Stopped: 3}, {Floor: 2, Stopped: 3}},
			[]zoneGrowth{{0, 2}, {0, 2}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, unplaced := planGrowth(tc.want, tc.zones)
			must.Eq(t, tc.plan, plan)
			must.Eq(t, tc.wantUnplaced, unplaced)
		})
	}
}

// FuzzPlanGrowth checks the invariants of any plan: a zone never starts
// more than its pool holds or shrinks, a zone in stockout never grows, and
// the plan places exactly what it does not report unplaced.
func FuzzPlanGrowth(f *testing.F) {
	f.Add(int64(9), int64(1), int64(1), int64(1), int64(1), false, false)
	f.Add(int64(6), int64(2), int64(2), int64(2), int64(0), true, false)
	f.Fuzz(func(t *testing.T, want, fa, sa, fb, sb int64, oa, ob bool) {
		if want < 0 || want > 500 || fa < 0 || fa > 100 || fb < 0 || fb > 100 || sa < 0 || sa > 100 || sb < 0 || sb > 100 {
			t.Skip()
		}
		zones := []growZone{{Floor: fa, Stopped: sa, Stockout: oa}, {Floor: fb, Stopped: sb, Stockout: ob}}
		plan, unplaced := planGrowth(want, zones)
		var total int64
		for i, g := range plan {
			z := zones[i]
			must.Between(t, 0, g.Start, z.Stopped)
			must.GreaterEq(t, z.Floor+g.Start, g.Target)
			if z.Stockout {
				must.Eq(t, zoneGrowth{0, z.Floor}, g)
			}
			total += g.Target
		}
		must.Eq(t, max(want, fa+fb), total+unplaced)
	})
}

func TestRetireNodes(t *testing.T) {
	t.Parallel()
	nodes := []nodeCandidate{
		{Instance: "old", CreateIndex: 10},
		{Instance: "new", CreateIndex: 30},
		{Instance: "mid", CreateIndex: 20},
	}
	names := func(cs []nodeCandidate) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Instance)
		}
		return out
	}
	cases := []struct {
		name      string
		room      int64
		stop, del []string
	}{
		{"a full pool deletes every drained worker", 0, []string{}, []string{"new", "mid", "old"}},
		{"room for one stops the newest node and deletes the rest", 1, []string{"new"}, []string{"mid", "old"}},
		{"more room than workers stops them all", 5, []string{"new", "mid", "old"}, []string{}},
		{"negative room is no room", -2, []string{}, []string{"new", "mid", "old"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stop, del := retireNodes(nodes, tc.room)
			must.Eq(t, tc.stop, names(stop))
			must.Eq(t, tc.del, names(del))
		})
	}
}

func TestPoolRoomCountsStoppedAndStoppingVMsButNotRefills(t *testing.T) {
	t.Parallel()
	zone := func(stopped int64, instances ...managedInstance) zoneView {
		return zoneView{State: migState{Standby: standbySettings{Stopped: stopped}}, Instances: instances}
	}
	stoppedVM := managedInstance{Status: instanceTerminated, CurrentAction: actionNone}
	stoppingVM := managedInstance{Status: instanceStopping, CurrentAction: actionStopping}
	refill := managedInstance{Status: "STAGING", CurrentAction: actionCreating}
	initializing := managedInstance{Status: instanceRunning, CurrentAction: actionStopping}
	zones := []zoneView{zone(2, stoppedVM, refill), zone(2, stoppedVM, stoppingVM), zone(2, initializing, initializing)}
	must.Eq(t, []int64{1, 0, 2}, poolRoom(6, zones),
		must.Sprint("zone a has one VM and a refill on its way, zone b is full, zone c's refills still initialize"))
	must.Eq(t, []int64{0, 0, 0}, poolRoom(0, zones))
}

func TestPlanRecycle(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	vm := func(name string, age time.Duration) pooledVM { return pooledVM{Name: name, StoppedAt: now.Add(-age)} }
	cases := []struct {
		name  string
		zones []recycleZone
		want  []string
	}{
		{"young VMs stay", []recycleZone{{Stopped: []pooledVM{vm("a1", day)}}}, []string{""}},
		{"the oldest expired VM goes first, one per zone", []recycleZone{{Stopped: []pooledVM{vm("a1", 8*day), vm("a2", 9*day), vm("a3", day)}}}, []string{"a2"}},
		{"a zone whose pool is filling waits", []recycleZone{{Busy: true, Stopped: []pooledVM{vm("a1", 9*day)}}, {Stopped: []pooledVM{vm("b1", 9*day)}}}, []string{"", "b1"}},
		{"exactly the maximum age is not expired", []recycleZone{{Stopped: []pooledVM{vm("a1", 7*day)}}}, []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, planRecycle(tc.zones, now, 7*day))
		})
	}
}

func TestSettledIgnoresThePoolsOwnWork(t *testing.T) {
	t.Parallel()
	serving := managedInstance{Name: "w", Status: instanceRunning, CurrentAction: actionNone}
	cases := []struct {
		name      string
		stopped   int64
		instances []managedInstance
		want      bool
	}{
		{"a refill booting does not hold the policy", 1, []managedInstance{serving, {Status: "STAGING", CurrentAction: actionCreating}}, true},
		{"a worker booting does", 0, []managedInstance{serving, {Status: "STAGING", CurrentAction: actionCreating}}, false},
		{"a worker booting beside a refill does", 1, []managedInstance{serving, {Status: "STAGING", CurrentAction: actionCreating}, {Status: "STAGING", CurrentAction: actionCreating}}, false},
		{"a VM stopping into the pool does not", 1, []managedInstance{serving, {Status: instanceRunning, CurrentAction: actionStopping}}, true},
		{"a warm start booting does", 0, []managedInstance{serving, {Status: "STAGING", CurrentAction: actionStarting}}, false},
		{"a start failing for stockout does not", 0, []managedInstance{serving, {Status: instanceTerminated, CurrentAction: actionStarting, LastAttemptCode: "ZONE_RESOURCE_POOL_EXHAUSTED"}}, true},
		{"a deletion does", 0, []managedInstance{serving, {Status: instanceStopping, CurrentAction: actionDeleting}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := zoneView{State: migState{Standby: standbySettings{Stopped: tc.stopped}}, Instances: tc.instances}
			must.Eq(t, tc.want, z.settled())
		})
	}
}

func TestStuckInstancesLeaveOutStuckRefills(t *testing.T) {
	t.Parallel()
	stuck := func(name string) managedInstance {
		return managedInstance{Name: name, CurrentAction: actionCreating, LastAttemptCode: "ZONE_RESOURCE_POOL_EXHAUSTED"}
	}
	start := managedInstance{Name: "s", Status: instanceTerminated, CurrentAction: actionStarting, LastAttemptCode: "QUOTA_EXCEEDED"}
	z := zoneView{State: migState{Standby: standbySettings{Stopped: 1}}, Instances: []managedInstance{stuck("c1"), start, stuck("c2")}}
	must.Eq(t, []string{"s", "c1"}, z.stuckInstances(), must.Sprint("one stuck creation is the pool's refill"))
}

func TestPlanReconcileStandbyMarkers(t *testing.T) {
	t.Parallel()
	node := markedNode{NodeName: "n", Zone: "z", InMIG: true, Standby: true, Drained: true}
	pooled := node
	pooled.InPool = true
	drainMarkerInPool := pooled
	drainMarkerInPool.Standby = false
	gone := node
	gone.InMIG = false
	cases := []struct {
		name string
		node markedNode
		want reconcileKind
	}{
		{"a standby marker stays while its VM is in the pool", pooled, reconcileKeep},
		{"a standby node whose VM runs again is given back", node, reconcileRestore},
		{"a scale-in marker on a VM in the pool is dropped", drainMarkerInPool, reconcileForget},
		{"a standby marker of a deleted VM is dropped", gone, reconcileForget},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := planReconcile([]markedNode{tc.node}, map[string]int64{"z": 5})
			must.Eq(t, tc.want, got[0].Kind)
		})
	}
}

func TestRefillTarget(t *testing.T) {
	t.Parallel()
	const delay = 30 * time.Minute
	cases := []struct {
		name                string
		share, members, set int64
		short, delay        time.Duration
		want                int64
	}{
		{"without a delay the share at once", 2, 0, 0, 0, 0, 2},
		{"a full pool is its share", 2, 2, 2, time.Hour, delay, 2},
		{"a pool above its share is cut to it", 2, 3, 3, 0, delay, 2},
		{"a short pool asks for no creation within the delay", 2, 0, 0, 10 * time.Minute, delay, 0},
		{"refills already under way are not deleted", 3, 1, 2, 10 * time.Minute, delay, 2},
		{"nor asked beyond the share", 2, 1, 5, 10 * time.Minute, delay, 2},
		{"never below the VMs the pool holds", 3, 2, 1, 0, delay, 2},
		{"after the delay the share", 2, 0, 0, delay, delay, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, refillTarget(tc.share, tc.members, tc.set, tc.short, tc.delay))
		})
	}
}
