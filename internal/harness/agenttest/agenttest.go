// Package agenttest runs the official nomad-autoscaler agent (v0.5.0, built
// by `make agent` from tools/agent) with this repository's plugin binaries,
// for the smoke and end-to-end tests. It never talks to a real Nomad: the
// agent runs with file policies and the Nomad policy source disabled.
package agenttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/syncbuf"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
)

// Module is this repository's module path.
const Module = "github.com/fleetslope/nomad-gpu-autoscaler"

// PluginNames are the three plugin binaries, which are also their drivers.
var PluginNames = []string{"apm-rabbitmq", "strategy-slope", "target-gce-gpu"}

// RepoRoot walks up from the working directory to the directory holding
// this module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+Module+"\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of %s above the working directory", Module)
		}
		dir = parent
	}
}

var agentBuild sync.Mutex

// AgentBinary returns bin/nomad-autoscaler, building it from tools/agent
// when `make agent` has not been run (a cold build takes a minute or two).
func AgentBinary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	bin := filepath.Join(root, "bin", "nomad-autoscaler")
	agentBuild.Lock()
	defer agentBuild.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-o", bin, "github.com/hashicorp/nomad-autoscaler")
	cmd.Dir = filepath.Join(root, "tools", "agent")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the agent (make agent): %v\n%s", err, out)
	}
	return bin
}

// PluginDir builds the three plugins from the working tree (once per test
// binary) and returns the directory that holds them, for plugin_dir.
func PluginDir(t testing.TB) string {
	t.Helper()
	var dir string
	for _, name := range PluginNames {
		dir = filepath.Dir(plugintest.Build(t, Module+"/plugins/"+name))
	}
	return dir
}

// Config is what varies between agent runs. Blocks is HCL appended to the
// agent configuration: the apm, strategy and target blocks of the test.
type Config struct {
	PolicyDir    string
	NomadAddress string
	Blocks       string
	// EvaluationInterval is the agent's default_evaluation_interval (default 2s).
	EvaluationInterval time.Duration
}

// Agent is a running agent process.
type Agent struct {
	t          testing.TB
	cmd        *exec.Cmd
	configPath string
	HTTPAddr   string
	log        *syncbuf.Buffer
	exited     chan struct{}
	exitErr    error
}

// WriteConfig renders the agent configuration and returns its path.
func WriteConfig(t testing.TB, dir, pluginDir, httpAddr string, cfg Config) string {
	t.Helper()
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		t.Fatalf("http address %q: %v", httpAddr, err)
	}
	interval := cfg.EvaluationInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	nomadAddr := cfg.NomadAddress
	if nomadAddr == "" {
		nomadAddr = "http://127.0.0.1:1"
	}
	body := fmt.Sprintf(`log_level  = "debug"
plugin_dir = %q

http {
  bind_address = %q
  bind_port    = %s
}

nomad {
  address = %q
}

policy {
  dir                         = %q
  default_evaluation_interval = %q
  default_cooldown            = "1s"

  source "nomad" {
    enabled = false
  }
}

%s
`, pluginDir, host, port, nomadAddr, cfg.PolicyDir, interval.String(), cfg.Blocks)
	path := filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatalf("write agent config: %v", err)
	}
	return path
}

// Start launches the agent and waits until its health endpoint answers or
// the process exits. The agent is killed when the test ends.
func Start(t testing.TB, cfg Config) *Agent {
	t.Helper()
	dir := t.TempDir()
	if cfg.PolicyDir == "" {
		cfg.PolicyDir = filepath.Join(dir, "policies")
		if err := os.MkdirAll(cfg.PolicyDir, 0o755); err != nil {
			t.Fatalf("policy dir: %v", err)
		}
	}
	a := &Agent{t: t, HTTPAddr: testenv.FreeAddr(t), log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	a.configPath = WriteConfig(t, dir, PluginDir(t), a.HTTPAddr, cfg)
	a.start()
	t.Cleanup(func() {
		// A graceful stop lets the agent stop its plugins; Stop falls back
		// to killing the whole process group.
		_ = a.Stop(15 * time.Second)
		if t.Failed() {
			t.Logf("agent log:\n%s", a.Log())
		}
	})
	if err := a.waitHealthy(60 * time.Second); err != nil {
		t.Fatalf("agent did not become healthy: %v\nlog:\n%s", err, a.Log())
	}
	return a
}

func (a *Agent) start() {
	a.cmd = exec.Command(AgentBinary(a.t), "agent", "-config", a.configPath)
	a.cmd.Stdout = a.log
	a.cmd.Stderr = a.log
	// The agent leads its own process group, which the plugins it launches
	// join: Kill can then take them all down at once, as a crash would.
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		a.t.Fatalf("start agent: %v", err)
	}
	a.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		a.exitErr = cmd.Wait()
		close(done)
	}(a.cmd, a.exited)
}

// Restart starts a new agent process with the same configuration, after a
// Kill or Stop, and waits until it is healthy.
func (a *Agent) Restart() {
	a.t.Helper()
	a.start()
	if err := a.waitHealthy(60 * time.Second); err != nil {
		a.t.Fatalf("restarted agent did not become healthy: %v\nlog:\n%s", err, a.Log())
	}
}

func (a *Agent) waitHealthy(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get("http://" + a.HTTPAddr + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.exited:
			return fmt.Errorf("agent exited: %v", a.exitErr)
		case <-ctx.Done():
			return fmt.Errorf("no healthy answer from %s within %s", a.HTTPAddr, timeout)
		case <-tick.C:
		}
	}
}

// Log returns everything the agent (and its plugins, through go-plugin) logged so far.
func (a *Agent) Log() string { return a.log.String() }

// WaitForLog waits until the log matches the regular expression, and
// returns the first match.
func (a *Agent) WaitForLog(t testing.TB, pattern string, timeout time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindString(a.Log()); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent log has no match for %q within %s; log:\n%s", pattern, timeout, a.Log())
		}
		select {
		case <-a.exited:
			if m := re.FindString(a.Log()); m != "" {
				return m
			}
			t.Fatalf("agent exited (%v) before its log matched %q; log:\n%s", a.exitErr, pattern, a.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Reload sends SIGHUP, which makes the agent re-read its configuration and
// policies and call SetConfig on every plugin again.
func (a *Agent) Reload() {
	a.t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		a.t.Fatalf("SIGHUP agent: %v", err)
	}
}

// Stop sends SIGINT and waits for the agent to exit, returning its exit error
// (nil for a clean exit).
func (a *Agent) Stop(timeout time.Duration) error {
	a.t.Helper()
	select {
	case <-a.exited:
		return a.exitErr
	default:
	}
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("SIGINT agent: %w", err)
	}
	select {
	case <-a.exited:
		return a.exitErr
	case <-time.After(timeout):
		a.Kill()
		return fmt.Errorf("agent still running %s after SIGINT", timeout)
	}
}

// Kill sends SIGKILL to the agent and every plugin process it launched, all
// at once, as when the machine or container running them dies, and waits for
// the agent to go. Killing the agent alone would not be a crash of the
// autoscaler: its plugins would live on as orphans, and a target plugin
// could finish a scale-in it had started, hiding what a restart must
// reconcile.
func (a *Agent) Kill() {
	// The group outlives its leader while a plugin is still in it, so this
	// also ends plugins left behind by an agent that already exited.
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-a.exited
}

// ConfigPath is the agent configuration file, for tests that edit it before Reload.
func (a *Agent) ConfigPath() string { return a.configPath }
