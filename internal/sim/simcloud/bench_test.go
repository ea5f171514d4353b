package simcloud_test

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// benchCluster is a two-zone cluster of 64 ready workers, the size of a busy
// demo hour.
func benchCluster(b *testing.B) *simcloud.Cluster {
	c, err := simcloud.New(simcloud.Config{
		MIGs:        []simcloud.MIGRef{{Zone: zoneA, Name: "gpu-a"}, {Zone: zoneB, Name: "gpu-b"}},
		InitialSize: 32, Clock: simcloud.NewClock(time.Now(), 60, nil),
	})
	must.NoError(b, err)
	b.Cleanup(c.Close)
	return c
}

// BenchmarkState measures GET /admin/state's work, which the worker
// simulator and the demo poll several times a second.
func BenchmarkState(b *testing.B) {
	c := benchCluster(b)
	b.ReportAllocs()
	for b.Loop() {
		if c.State().ReadyWorkersTotal != 64 {
			b.Fatal("cluster lost workers")
		}
	}
}

// BenchmarkTick measures one simulation step (every -tick, 100 ms by default).
func BenchmarkTick(b *testing.B) {
	c := benchCluster(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Tick()
	}
}
