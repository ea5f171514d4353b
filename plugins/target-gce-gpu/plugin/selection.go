package plugin

import (
	"cmp"
	"slices"
)

// nodeCandidate is a Nomad node that backs a removable instance, with the
// load figures node selection needs.
type nodeCandidate struct {
	NodeID   string
	NodeName string
	// Instance is the GCE instance name behind the node.
	Instance string
	Zone     string
	// CreateIndex is the node's Nomad create index (newer nodes are higher).
	CreateIndex uint64
	// RunningAllocs counts pending or running allocations of any job type.
	RunningAllocs int
	// RunningNonSystem counts pending or running allocations of service and
	// batch jobs: work that a drain would have to move or wait for.
	RunningNonSystem int
	// GPUs counts the GPU devices held by pending or running allocations.
	GPUs int
}

// selectNodes picks up to n nodes to remove using the named selector. The
// default, least_busy, prefers nodes without running non-system work, then
// those holding the fewest GPUs, then the fewest running allocations, and
// finally the newest node; unlike the SDK's least_busy (CPU and memory
// only), an idle GPU is what makes a GPU worker cheap to lose. empty only
// returns nodes without running non-system work, so it may return fewer.
func selectNodes(nodes []nodeCandidate, n int, selector string) []nodeCandidate {
	if n <= 0 {
		return nil
	}
	sorted := slices.Clone(nodes)
	byNewest := func(a, b nodeCandidate) int {
		return cmp.Or(cmp.Compare(b.CreateIndex, a.CreateIndex), cmp.Compare(a.NodeName, b.NodeName))
	}
	switch selector {
	case selectorNewestIndex:
		slices.SortFunc(sorted, byNewest)
	case selectorOldestIndex:
		slices.SortFunc(sorted, func(a, b nodeCandidate) int { return -byNewest(a, b) })
	case selectorEmpty:
		sorted = slices.DeleteFunc(sorted, func(c nodeCandidate) bool { return c.RunningNonSystem > 0 })
		slices.SortFunc(sorted, byNewest)
	default:
		slices.SortFunc(sorted, func(a, b nodeCandidate) int {
			return cmp.Or(
				cmp.Compare(boolRank(a.RunningNonSystem > 0), boolRank(b.RunningNonSystem > 0)),
				cmp.Compare(a.GPUs, b.GPUs),
				cmp.Compare(a.RunningAllocs, b.RunningAllocs),
				byNewest(a, b),
			)
		})
	}
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	return sorted
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// removalCost orders candidates as least_busy does, as one number: any
// non-system work outweighs any number of GPUs, which outweigh allocations.
func removalCost(c nodeCandidate) int64 {
	return int64(boolRank(c.RunningNonSystem > 0))<<40 + int64(min(c.GPUs, 1<<19))<<20 + int64(min(c.RunningAllocs, 1<<19))
}
