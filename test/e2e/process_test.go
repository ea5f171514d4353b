package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/agenttest"
)

// crashAgent kills the agent and the plugin processes it launched with
// SIGKILL, all at once, as when the machine or container running them
// dies. Killing the agent alone is not a crash of the autoscaler: its
// plugins would live on as orphans and a target plugin could finish the
// scale-in it had started, hiding what a restart must reconcile.
func crashAgent(t *testing.T, a *agenttest.Agent) {
	t.Helper()
	agentPID := findPID(t, func(cmdline string) bool {
		return strings.Contains(cmdline, "nomad-autoscaler") && strings.Contains(cmdline, a.ConfigPath())
	})
	children := childPIDs(agentPID)
	if len(children) == 0 {
		t.Fatalf("agent %d has no plugin processes to kill", agentPID)
	}
	for _, pid := range append([]int{agentPID}, children...) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", pid, err)
		}
	}
	a.Kill() // reaps the agent
}

// stopGracefully stops the agent with SIGINT when the test ends, so that it
// stops its plugins (agenttest's own cleanup kills the agent alone).
func stopGracefully(t *testing.T, a *agenttest.Agent) {
	t.Cleanup(func() { _ = a.Stop(15 * time.Second) })
}

func findPID(t *testing.T, match func(cmdline string) bool) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		if match(strings.ReplaceAll(string(b), "\x00", " ")) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	t.Fatalf("no process matches")
	return 0
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(pid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(d))
			out = append(out, child)
		}
	}
	return out
}
