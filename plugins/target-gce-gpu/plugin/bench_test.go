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

// fleetMIGs is the fleet of the scale benchmarks: 4 MIGs (one per zone,
// as the target takes them) of 500 GPU workers each, 2,000 in all.
var fleetMIGs = harnessOptions{sizeA: 500, sizeB: 500, moreSizes: []int{500, 500}, bootTime: time.Millisecond}

// BenchmarkStatusAt2000Nodes measures one Status of a 2,000-worker fleet
// through the real compute and Nomad clients against the in-process
// fakes: 4 MIGs of 500 RUNNING instances, each with a ready Nomad node.
// It includes the fakes' side of every request (JSON encoding, loopback
// HTTP); see the README for the split.
func BenchmarkStatusAt2000Nodes(b *testing.B) {
	o := fleetMIGs
	h := newHarness(b, o)
	// The agent's gRPC deadline is not what is measured here.
	h.policy["_nomad_autoscaler_grpc_timeout"] = "60s"
	want := int64(o.sizeA + o.sizeB + o.moreSizes[0] + o.moreSizes[1])
	for b.Loop() {
		st, err := h.p.Status(h.policy)
		if err != nil {
			b.Fatal(err)
		}
		if st.Count != want || !st.Ready {
			b.Fatalf("count %d ready %v, want %d ready", st.Count, st.Ready, want)
		}
	}
}

// BenchmarkScaleInOf200Nodes measures a scale-in of 200 workers (50 per
// MIG) out of 2,000: select, mark, drain in parallel (each drain 10 ms in
// the fake Nomad), delete exactly the drained instances and wait for the
// MIGs to settle. Each iteration builds a fresh fleet with the timer
// stopped.
func BenchmarkScaleInOf200Nodes(b *testing.B) {
	o := fleetMIGs
	o.drainDuration = 10 * time.Millisecond
	const total, remove = 2000, 200
	for b.Loop() {
		b.StopTimer()
		h := newHarness(b, o)
		h.policy["_nomad_autoscaler_grpc_timeout"] = "60s"
		h.policy["scale_timeout"] = "60s"
		b.StartTimer()
		if err := h.p.Scale(scaleAction(total-remove), h.policy); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := len(h.gceRequests("/deleteInstances")); n == 0 {
			b.Fatal("nothing deleted")
		}
		b.StartTimer()
	}
}
