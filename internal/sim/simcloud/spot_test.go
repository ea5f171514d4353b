package simcloud_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// readyNodes counts the ready Nomad nodes of a zone.
func readyNodes(st simcloud.State, zone string) int {
	n := 0
	for _, node := range st.Nodes {
		if node.Zone == zone && node.Status == api.NodeStatusReady {
			n++
		}
	}
	return n
}

func TestSpotWaveThroughTheAdminAPITakesNodesDownAfterTheNoticeAndBackWithCapacity(t *testing.T) {
	t.Parallel()
	e := startClusterWith(t, 1, func(c *simcloud.Config) {
		c.MIGs = append(c.MIGs, simcloud.MIGRef{Zone: zoneA, Name: "spot-a"})
		c.InitialSizes = map[simcloud.MIGRef]int{{Zone: zoneA, Name: "spot-a"}: 2}
	})
	must.Eq(t, http.StatusOK, e.post(t, "/admin/provisioning-model?zone="+zoneA+"&mig=spot-a&model=SPOT"))
	must.Eq(t, 3, readyNodes(e.state(t), zoneA))
	must.Eq(t, http.StatusOK, e.post(t, "/admin/spot-stockout?zone="+zoneA+"&on=true"))
	must.Eq(t, http.StatusOK, e.post(t, "/admin/preempt-wave?zone="+zoneA))
	// The 30 s notice: nodes still up.
	must.Eq(t, 3, readyNodes(e.state(t), zoneA))
	e.advance(31 * time.Second)
	must.Eq(t, 1, readyNodes(e.state(t), zoneA))
	e.advance(10 * time.Minute)
	must.Eq(t, 1, readyNodes(e.state(t), zoneA))
	must.Eq(t, 2, len(e.cluster.Preemptions()))
	must.Eq(t, http.StatusOK, e.post(t, "/admin/spot-stockout?zone="+zoneA+"&on=false"))
	e.advance(30 * time.Second)
	e.advance(90 * time.Second)
	must.Eq(t, 3, readyNodes(e.state(t), zoneA))
}
