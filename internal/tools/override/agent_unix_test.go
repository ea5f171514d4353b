//go:build unix

package override

import (
	"os"
	"os/exec"
	"testing"

	"github.com/shoenig/test/must"
)

func TestOnlyANomadAutoscalerAgentIsSignalled(t *testing.T) {
	for _, args := range [][]string{
		{"nomad-autoscaler", "agent", "-config", "/etc/nomad-autoscaler.d"},
		{"/usr/local/bin/nomad-autoscaler", "agent"},
		{"/repo/bin/nomad-autoscaler", "agent", "-config", "agent.hcl"},
	} {
		must.NoError(t, checkAgentCommand(1, args), must.Sprint(args))
	}
	for _, args := range [][]string{
		{"nomad", "agent", "-client"},
		{"/usr/bin/python3", "worker.py", "agent"},
		{"nomad-autoscaler", "version"},
		{"nomad-autoscaler"},
	} {
		must.ErrorContains(t, checkAgentCommand(1, args), "not a nomad-autoscaler agent", must.Sprint(args))
	}
}

func TestCheckRefusesAProcessThatIsNotTheAgent(t *testing.T) {
	err := systemAgent{}.Check(os.Getpid())
	must.ErrorContains(t, err, "not a nomad-autoscaler agent")

	cmd := exec.Command("true")
	must.NoError(t, cmd.Run())
	err = systemAgent{}.Check(cmd.Process.Pid) // exited and reaped
	must.ErrorContains(t, err, "no such process")
}

func TestOneEditOfAPolicyDirectoryAtATime(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	must.NoError(t, err)
	_, err = lockDir(dir)
	must.ErrorContains(t, err, "another override command is editing "+dir)
	unlock()
	unlock, err = lockDir(dir)
	must.NoError(t, err)
	unlock()
}
