package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestPlanReconcile(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	drained := func(name, zone string, desired int64, at int) markedNode {
		return markedNode{NodeName: name, Zone: zone, DesiredSize: desired, MarkedAt: t0.Add(time.Duration(at) * time.Second), NodeReady: true, InMIG: true, Drained: true}
	}
	cases := []struct {
		name    string
		marked  []markedNode
		targets map[string]int64
		want    map[string]reconcileKind
	}{
		{
			"drained nodes are deleted while their MIG is above the desired size",
			[]markedNode{drained("n1", "a", 3, 0), drained("n2", "a", 3, 1)},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileRetire, "n2": reconcileRetire},
		},
		{
			"only the excess is deleted, oldest marker first, the rest made eligible",
			[]markedNode{drained("n2", "a", 3, 1), drained("n1", "a", 3, 0)},
			map[string]int64{"a": 4},
			map[string]reconcileKind{"n1": reconcileRetire, "n2": reconcileRestore},
		},
		{
			"a MIG already at its desired size gets its nodes back",
			[]markedNode{drained("n1", "a", 3, 0)},
			map[string]int64{"a": 3},
			map[string]reconcileKind{"n1": reconcileRestore},
		},
		{
			"a node still draining is left alone",
			[]markedNode{func() markedNode { n := drained("n1", "a", 1, 0); n.Draining = true; return n }()},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileWait},
		},
		{
			"a canceled drain is undone, not finished",
			[]markedNode{func() markedNode { n := drained("n1", "a", 1, 0); n.DrainCanceled = true; return n }()},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileRestore},
		},
		{
			"a node marked but never drained is given back, never deleted",
			[]markedNode{func() markedNode { n := drained("n1", "a", 1, 0); n.Drained = false; return n }()},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileRestore},
		},
		{
			"a node whose instance is gone is forgotten",
			[]markedNode{func() markedNode { n := drained("n1", "a", 1, 0); n.InMIG = false; return n }()},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileForget},
		},
		{
			"zones are counted separately",
			[]markedNode{drained("n1", "a", 1, 0), drained("n2", "b", 2, 0)},
			map[string]int64{"a": 2, "b": 2},
			map[string]reconcileKind{"n1": reconcileRetire, "n2": reconcileRestore},
		},
		{
			"a zone the policy does not know is never deleted from",
			[]markedNode{drained("n1", "x", 0, 0)},
			map[string]int64{"a": 5},
			map[string]reconcileKind{"n1": reconcileRestore},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]reconcileKind{}
			for _, a := range planReconcile(tc.marked, tc.targets) {
				got[a.Node.NodeName] = a.Kind
			}
			must.Eq(t, tc.want, got)
		})
	}
}

func FuzzPlanReconcile(f *testing.F) {
	f.Add(uint8(4), int64(5), int64(3), uint8(0))
	f.Fuzz(func(t *testing.T, count uint8, target, desired int64, flags uint8) {
		var marked []markedNode
		for i := 0; i < int(count%16); i++ {
			marked = append(marked, markedNode{
				NodeName: string(rune('a' + i)), Zone: "z", DesiredSize: desired,
				MarkedAt: time.Unix(int64(i), 0), InMIG: flags&1 == 0 || i%2 == 0,
				Draining: flags&2 != 0 && i%3 == 0, NodeReady: true,
				Drained: flags&4 == 0 || i%2 == 1,
			})
		}
		deletes := int64(0)
		for _, a := range planReconcile(marked, map[string]int64{"z": target}) {
			if a.Kind == reconcileRetire {
				if a.Node.Draining || !a.Node.InMIG || !a.Node.Drained {
					t.Fatalf("deletes a node that is draining or gone: %+v", a.Node)
				}
				deletes++
			}
		}
		if deletes > 0 && target-deletes < max(desired, 0) {
			t.Fatalf("deletes %d from %d below desired %d", deletes, target, desired)
		}
	})
}
