package plugin

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func BenchmarkZoneSplit(b *testing.B) {
	caps := []int64{unlimited, 40, unlimited}
	for b.Loop() {
		zoneSplit(500, caps)
	}
}

func BenchmarkZoneSplitWithin(b *testing.B) {
	floor := []int64{10, 9, 3}
	caps := []int64{unlimited, unlimited, 3}
	for b.Loop() {
		zoneSplitWithin(200, floor, caps)
	}
}

func BenchmarkScaleInSplit(b *testing.B) {
	sizes := []int64{70, 65, 65}
	costs := make([][]int64, len(sizes))
	for i, s := range sizes {
		for k := range s {
			costs[i] = append(costs[i], int64(k%7))
		}
		slices.Sort(costs[i]) // cheapest first, as selection ranks them
	}
	for b.Loop() {
		scaleInSplit(sizes, costs, 131)
	}
}

func BenchmarkSelectNodes(b *testing.B) {
	nodes := make([]nodeCandidate, 200)
	for i := range nodes {
		nodes[i] = nodeCandidate{NodeName: fmt.Sprintf("n%03d", i), CreateIndex: uint64(i),
			RunningAllocs: i % 5, RunningNonSystem: i % 3, GPUs: i % 2}
	}
	for b.Loop() {
		selectNodes(nodes, 20, selectorLeastBusy)
	}
}

// BenchmarkStatus measures one Status against the fakes over loopback
// HTTP: two MIGs of 16 running GPU workers, each with a Nomad node.
func BenchmarkStatus(b *testing.B) {
	h := newHarness(b, harnessOptions{sizeA: 16, sizeB: 16, bootTime: time.Millisecond})
	for b.Loop() {
		if _, err := h.p.Status(h.policy); err != nil {
			b.Fatal(err)
		}
	}
}
