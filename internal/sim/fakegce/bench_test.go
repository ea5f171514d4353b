package fakegce_test

import (
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// BenchmarkGetAndListThroughTheRESTClient measures what one target Status
// costs against the fake: a MIG get and a listManagedInstances of 32
// instances, through the real compute client.
func BenchmarkGetAndListThroughTheRESTClient(b *testing.B) {
	fake, client := start(b, fakegce.Options{})
	fake.AddMIG(zoneA, "gpu-a", 32)
	b.ReportAllocs()
	for b.Loop() {
		getMIG(b, client, zoneA, "gpu-a")
		if n := len(listInstances(b, client, zoneA, "gpu-a")); n != 32 {
			b.Fatalf("listed %d instances", n)
		}
	}
}
