package plugin_test

import (
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/shoenig/test/must"
)

// TestAgentEndToEnd runs the official agent v0.5.0 (bin/nomad-autoscaler
// from `make agent`, or NOMAD_AUTOSCALER_BIN) with the README's
// configuration against the fakes, and waits for it to resize the MIGs to
// the odd-even split of the policy's fixed value.
func TestAgentEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the official agent")
	}
	agent := os.Getenv("NOMAD_AUTOSCALER_BIN")
	if agent == "" {
		agent = agenttest.AgentBinary(t)
	}
	gce := fakegce.New(fakegce.Options{BootTime: 100 * time.Millisecond})
	nomad := fakenomad.New(fakenomad.Options{})
	gsrv, nsrv := httptest.NewServer(gce), httptest.NewServer(nomad)
	t.Cleanup(func() { gce.Close(); nomad.Close(); gsrv.Close(); nsrv.Close() })
	gce.OnInstanceRunning(func(zone, _, instance string) {
		nomad.AddNode(fakenomad.NodeSpec{Name: instance, NodeClass: "gpu-l4", GPUs: 1, Attributes: map[string]string{
			"unique.platform.gce.hostname": instance + ".c.test-project.internal", "platform.gce.zone": zone,
		}})
	})
	gce.AddMIG("europe-west4-a", "gpu-workers-a", 1)
	gce.AddMIG("europe-west4-b", "gpu-workers-b", 0)

	dir := t.TempDir()
	pluginDir, policyDir := filepath.Join(dir, "plugins"), filepath.Join(dir, "policies")
	must.NoError(t, os.MkdirAll(pluginDir, 0o755))
	must.NoError(t, os.MkdirAll(policyDir, 0o755))
	bin := plugintest.Build(t, "github.com/fleetslope/nomad-gpu-autoscaler/plugins/target-gce-gpu")
	must.NoError(t, os.Symlink(bin, filepath.Join(pluginDir, "target-gce-gpu")))
	policy, err := os.ReadFile("testdata/policy.hcl")
	must.NoError(t, err)
	must.NoError(t, os.WriteFile(filepath.Join(policyDir, "gpu.hcl"), policy, 0o644))

	tmpl := template.Must(template.ParseFiles("testdata/agent.hcl.tmpl"))
	cfgPath := filepath.Join(dir, "agent.hcl")
	f, err := os.Create(cfgPath)
	must.NoError(t, err)
	must.NoError(t, tmpl.Execute(f, map[string]string{
		"PluginDir": pluginDir, "PolicyDir": policyDir, "NomadURL": nsrv.URL, "GCEURL": gsrv.URL,
		"HTTPPort": strconv.Itoa(freePort(t)),
	}))
	must.NoError(t, f.Close())

	cmd := exec.Command(agent, "agent", "-config", cfgPath)
	// Its own process group, so that the plugin processes the agent starts
	// go with it even if it has to be killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs, err := os.Create(filepath.Join(dir, "agent.log"))
	must.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logs, logs
	must.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stopAgent(cmd)
		if testing.Verbose() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("agent log:\n%s", out)
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for gce.MIG("europe-west4-a", "gpu-workers-a").TargetSize != 3 || gce.MIG("europe-west4-b", "gpu-workers-b").TargetSize != 2 {
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logs.Name())
			t.Fatalf("agent did not scale to 3+2; agent log:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The last scaling time is recorded in a Nomad variable once Scale
	// has waited for the MIGs.
	for !recordedLastEvent(nomad) {
		if time.Now().After(deadline) {
			t.Fatal("no PUT of the policy's last_event variable")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func recordedLastEvent(nomad *fakenomad.Server) bool {
	for _, r := range nomad.Requests() {
		if r.Method == "PUT" && filepath.Dir(r.Path) == "/v1/var/nomad-autoscaler/target-gce-gpu" && r.Status == 200 {
			return true
		}
	}
	return false
}

// stopAgent asks the agent to shut down (it then stops its plugins) and
// kills its whole process group if it has not exited within 10 s.
func stopAgent(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
