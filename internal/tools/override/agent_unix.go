//go:build unix

package override

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// systemAgent signals a real agent process.
type systemAgent struct{}

// Check makes sure pid is a nomad-autoscaler agent this user may signal:
// SIGHUP ends most other programs.
func (systemAgent) Check(pid int) error {
	switch err := syscall.Kill(pid, 0); {
	case errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("-agent-pid %d: no such process", pid)
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("-agent-pid %d: not allowed to signal it (run as the agent's user)", pid)
	case err != nil:
		return fmt.Errorf("-agent-pid %d: %w", pid, err)
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no /proc to look into (macOS, BSD)
	}
	if err != nil {
		return fmt.Errorf("-agent-pid %d: read its command line: %w", pid, err)
	}
	return checkAgentCommand(pid, strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00"))
}

// checkAgentCommand accepts `nomad-autoscaler agent ...`, whatever the
// binary's directory.
func checkAgentCommand(pid int, args []string) error {
	if len(args) >= 2 && strings.Contains(filepath.Base(args[0]), "nomad-autoscaler") {
		for _, a := range args[1:] {
			if a == "agent" {
				return nil
			}
		}
	}
	return fmt.Errorf("-agent-pid %d: runs %q, not a nomad-autoscaler agent", pid, strings.Join(args, " "))
}

// Reload sends SIGHUP, on which the agent reads its policies again.
func (systemAgent) Reload(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("send SIGHUP to agent %d: %w", pid, err)
	}
	return nil
}

// lockDir takes an exclusive lock on the policy directory for the time of
// one edit, so that two operators cannot both replace the same file.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		d.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another override command is editing %s: try again", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { d.Close() }, nil
}
