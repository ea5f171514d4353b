package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// agentProc is the nomad-autoscaler agent started by the demo, in its own
// process group so that the demo alone decides when it stops (Ctrl-C in the
// terminal reaches the demo, which then stops the agent and its plugins).
type agentProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startAgent(bin, configPath string, out io.Writer) (*agentProc, error) {
	cmd := exec.Command(bin, "agent", "-config", configPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	a := &agentProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		a.err = cmd.Wait()
		close(a.done)
	}()
	return a, nil
}

// waitHealthy polls the agent's health endpoint until it answers 200, the
// agent exits, or ctx ends.
func (a *agentProc) waitHealthy(ctx context.Context, addr string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get("http://" + addr + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.done:
			return fmt.Errorf("agent exited: %v", a.err)
		case <-ctx.Done():
			return fmt.Errorf("agent health at %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// exited reports whether the agent is gone.
func (a *agentProc) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// stop sends SIGINT, waits up to timeout, then kills the agent's whole
// process group (the agent and the plugins it launched).
func (a *agentProc) stop(timeout time.Duration) error {
	if !a.exited() {
		_ = a.cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.done:
		case <-time.After(timeout):
		}
	}
	// The plugins are in the agent's group; none must outlive the demo.
	pgid := a.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill agent process group %d: %w", pgid, err)
	}
	<-a.done
	return nil
}
