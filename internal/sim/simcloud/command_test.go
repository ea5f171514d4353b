package simcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/shoenig/test/must"
	"google.golang.org/api/option"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

func TestMainServesBothAPIsAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addrFile, stateFile := filepath.Join(dir, "addr.json"), filepath.Join(dir, "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- simcloud.Main(ctx, cli.Env{Args: []string{
			"-listen", "127.0.0.1:0", "-project", "sim", "-migs", "europe-west4-a/gpu-a,europe-west4-b/gpu-b",
			"-initial-size", "1", "-boot-time", "60s", "-time-scale", "600", "-tick", "5ms",
			"-addr-file", addrFile, "-state-file", stateFile,
		}, Stdout: &stdout, Stderr: &stderr})
	}()

	var addrs simcloud.Addresses
	poll.Until(t, 5*time.Second, func() bool {
		b, err := os.ReadFile(addrFile)
		return err == nil && json.Unmarshal(b, &addrs) == nil
	}, poll.Say("simcloud to write its addresses file"))

	migs, err := compute.NewInstanceGroupManagersRESTClient(ctx,
		option.WithEndpoint(addrs.ComputeEndpoint), option.WithoutAuthentication())
	must.NoError(t, err)
	defer migs.Close()
	op, err := migs.Resize(ctx, &computepb.ResizeInstanceGroupManagerRequest{
		Project: "sim", Zone: "europe-west4-b", InstanceGroupManager: "gpu-b", Size: 2,
	})
	must.NoError(t, err)
	must.NoError(t, op.Wait(ctx))

	// 60 simulated seconds of boot take 100 ms at scale 600.
	poll.Until(t, 5*time.Second, func() bool {
		return fetchState(t, addrs.AdminURL).ReadyWorkersTotal == 3
	}, poll.Say("three ready workers after the resize"))

	cancel()
	must.NoError(t, <-done)
	must.StrContains(t, stdout.String(), "NOMAD_ADDR="+addrs.NomadAddr)
	b, err := os.ReadFile(stateFile)
	must.NoError(t, err)
	var st simcloud.State
	must.NoError(t, json.Unmarshal(b, &st))
	must.Eq(t, 3, st.ReadyWorkersTotal)
}

func fetchState(t *testing.T, adminURL string) simcloud.State {
	t.Helper()
	resp, err := http.Get(adminURL + "/state")
	must.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must.NoError(t, err)
	var st simcloud.State
	must.NoError(t, json.Unmarshal(b, &st))
	return st
}

func TestMainRejectsBadFlagsNamingEachOne(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := simcloud.Main(context.Background(), cli.Env{Args: []string{
		"-migs", "gpu-a", "-time-scale", "0", "-start-time", "yesterday",
	}, Stdout: &stdout, Stderr: &stderr})
	must.ErrorContains(t, err, `-migs: mig "gpu-a"`)
	must.ErrorContains(t, err, "-time-scale")
	must.ErrorContains(t, err, `-start-time: "yesterday"`)
}
