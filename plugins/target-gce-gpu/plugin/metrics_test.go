package plugin

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
)

func TestTheMetricsEndpointServesTheFleetAndTheCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond, drainDuration: 10 * time.Millisecond})
	must.NoError(t, h.p.SetConfig(map[string]string{"compute_endpoint": h.gceURL, "compute_insecure": "true",
		"nomad_address": h.nomadURL, "metrics_address": "127.0.0.1:0"}))
	t.Cleanup(h.p.metrics.Close)

	must.NoError(t, h.scale(4))
	_ = h.status()
	bad := map[string]string{"project": "x"}
	_, err := h.p.Status(bad)
	must.Error(t, err)

	body := promtest.Scrape(t, h.p.metrics.Addr())
	for _, want := range []string{
		`fleetslope_target_workers{mig="zone-a/gpu-a",state="target"} 2`,
		`fleetslope_target_workers{mig="zone-b/gpu-b",state="target"} 2`,
		`fleetslope_target_workers{mig="zone-a/gpu-a",state="standby"} 0`,
		`fleetslope_target_mig_stockout{mig="zone-a/gpu-a"} 0`,
		`fleetslope_target_scale_duration_seconds_count{direction="up"} 1`,
		`fleetslope_target_errors_total{kind="config",op="status"} 1`,
		`fleetslope_target_errors_total{kind="api",op="scale"} 0`,
		"fleetslope_target_ready{policy=",
		"fleetslope_target_last_status_timestamp_seconds{policy=",
		"process_resident_memory_bytes ",
	} {
		must.StrContains(t, body, want)
	}
}

func TestTheSpotMIGsHaveTheirSeriesToo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 10 * time.Millisecond})
	withSpot(t, h, 0, "0.6")
	must.NoError(t, h.p.SetConfig(map[string]string{"compute_endpoint": h.gceURL, "compute_insecure": "true",
		"nomad_address": h.nomadURL, "metrics_address": "127.0.0.1:0"}))
	t.Cleanup(h.p.metrics.Close)
	must.NoError(t, h.scale(10))
	_ = h.status()
	body := promtest.Scrape(t, h.p.metrics.Addr())
	must.StrContains(t, body, `fleetslope_target_workers{mig="zone-a/spot-a",state="target"} 3`)
	must.StrContains(t, body, `fleetslope_target_workers{mig="zone-b/spot-b",state="target"} 3`)
	must.StrContains(t, body, `fleetslope_target_mig_stockout{mig="zone-a/spot-a"} 0`)
}
