package plugin

import (
	"testing"

	"github.com/shoenig/test/must"
)

func names(ns []nodeCandidate) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.NodeName
	}
	return out
}

func TestSelectNodes(t *testing.T) {
	t.Parallel()
	nodes := []nodeCandidate{
		{NodeName: "busy-gpu", CreateIndex: 1, RunningAllocs: 2, RunningNonSystem: 1, GPUs: 1},
		{NodeName: "system-only", CreateIndex: 2, RunningAllocs: 3, RunningNonSystem: 0},
		{NodeName: "idle-old", CreateIndex: 3},
		{NodeName: "cpu-only-work", CreateIndex: 4, RunningAllocs: 3, RunningNonSystem: 3},
		{NodeName: "idle-new", CreateIndex: 5},
	}
	cases := []struct {
		name     string
		selector string
		n        int
		want     []string
	}{
		{"least busy takes idle nodes first, newest first", selectorLeastBusy, 2, []string{"idle-new", "idle-old"}},
		{"least busy takes system-only nodes before nodes with real work", selectorLeastBusy, 3, []string{"idle-new", "idle-old", "system-only"}},
		{"least busy prefers many CPU allocations over one GPU allocation", selectorLeastBusy, 5, []string{"idle-new", "idle-old", "system-only", "cpu-only-work", "busy-gpu"}},
		{"empty only returns nodes without non-system work", selectorEmpty, 5, []string{"idle-new", "idle-old", "system-only"}},
		{"newest create index ignores load", selectorNewestIndex, 2, []string{"idle-new", "cpu-only-work"}},
		{"oldest create index ignores load", selectorOldestIndex, 2, []string{"busy-gpu", "system-only"}},
		{"asking for none returns none", selectorLeastBusy, 0, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := names(selectNodes(nodes, tc.n, tc.selector))
			if len(tc.want) == 0 {
				must.SliceEmpty(t, got)
				return
			}
			must.Eq(t, tc.want, got)
		})
	}
}

func FuzzSelectNodes(f *testing.F) {
	f.Add(uint8(3), uint8(2), uint8(0))
	f.Fuzz(func(t *testing.T, count, n, sel uint8) {
		selectors := []string{selectorLeastBusy, selectorEmpty, selectorNewestIndex, selectorOldestIndex}
		var nodes []nodeCandidate
		for i := 0; i < int(count%20); i++ {
			nodes = append(nodes, nodeCandidate{NodeName: string(rune('a' + i)), CreateIndex: uint64(i * 7 % 5), RunningAllocs: i % 3, RunningNonSystem: i % 2, GPUs: i % 4})
		}
		got := selectNodes(nodes, int(n%25), selectors[int(sel)%len(selectors)])
		if len(got) > int(n%25) || len(got) > len(nodes) {
			t.Fatalf("selected %d of %d asking %d", len(got), len(nodes), n%25)
		}
		seen := map[string]bool{}
		for _, g := range got {
			if seen[g.NodeName] {
				t.Fatalf("node %s selected twice", g.NodeName)
			}
			seen[g.NodeName] = true
		}
	})
}
