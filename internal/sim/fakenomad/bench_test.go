package fakenomad_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// BenchmarkNodes1400 measures a snapshot of every node of a cluster at the
// soak's peak (1,400 GPU nodes, two allocations each), which simcloud takes
// on every tick and every state read.
func BenchmarkNodes1400(b *testing.B) {
	s := fakenomad.New(fakenomad.Options{})
	b.Cleanup(s.Close)
	for i := range 1400 {
		id := s.AddNode(fakenomad.NodeSpec{Name: fmt.Sprintf("gpu-%04d", i), Attributes: map[string]string{"platform.gce.zone": "us-central1-a"}})
		s.AddAllocation(id, fakenomad.AllocSpec{JobID: "node-exporter", JobType: api.JobTypeSystem})
		s.AddAllocation(id, fakenomad.AllocSpec{JobID: "ml-worker", GPUs: 1})
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(s.Nodes()) != 1400 {
			b.Fatal("nodes lost")
		}
	}
}
