package override

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestEditedPoliciesGetANameTheAgentHasNeverSeen(t *testing.T) {
	at := time.Date(2026, 12, 1, 17, 30, 0, 123_456_789, time.FixedZone("EST", -5*3600))
	none := func(string) bool { return false }
	cases := []struct{ name, old, want string }{
		{"the first edit adds the time to the millisecond, in UTC", "/p/gpu-workers.hcl", "/p/gpu-workers.20261201T223000123Z.hcl"},
		{"a later edit replaces the time of the previous one", "/p/gpu-workers.20261130T080000000Z.hcl", "/p/gpu-workers.20261201T223000123Z.hcl"},
		{"and its counter", "/p/gpu-workers.20261130T080000000Z-3.hcl", "/p/gpu-workers.20261201T223000123Z.hcl"},
		{"dots of the original name stay", "/p/gpu.workers.v2.hcl", "/p/gpu.workers.v2.20261201T223000123Z.hcl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, versionedName(tc.old, at, none))
		})
	}
	taken := map[string]bool{"/p/gpu-workers.20261201T223000123Z.hcl": true, "/p/gpu-workers.20261201T223000123Z-2.hcl": true}
	must.Eq(t, "/p/gpu-workers.20261201T223000123Z-3.hcl",
		versionedName("/p/gpu-workers.hcl", at, func(p string) bool { return taken[p] }),
		must.Sprint("two edits in the same millisecond"))
}

// dirSnapshot maps every file of dir to its content.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func TestReplacingAPolicyFileLeavesOnlyTheNewFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "gpu-workers.hcl")
	must.NoError(t, os.WriteFile(old, []byte("old"), 0o640))
	at := time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)
	got, err := replacePolicyFile(old, []byte("new"), at)
	must.NoError(t, err)
	must.Eq(t, filepath.Join(dir, "gpu-workers.20261201T173000000Z.hcl"), got)
	must.Eq(t, map[string]string{"gpu-workers.20261201T173000000Z.hcl": "new"}, dirSnapshot(t, dir))
	info, err := os.Stat(got)
	must.NoError(t, err)
	must.Eq(t, os.FileMode(0o640), info.Mode().Perm(), must.Sprint("the old file's mode"))
}

func TestAFailedReplacementLeavesTheDirectoryAsItWas(t *testing.T) {
	dir := t.TempDir()
	// A path that cannot be removed, even by root: a directory with a file.
	old := filepath.Join(dir, "gpu-workers.hcl")
	must.NoError(t, os.Mkdir(old, 0o755))
	must.NoError(t, os.WriteFile(filepath.Join(old, "keep"), []byte("x"), 0o644))
	_, err := replacePolicyFile(old, []byte("new"), time.Now())
	must.ErrorContains(t, err, "(the edited copy was removed again)")
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.Len(t, 1, entries, must.Sprint("no edited copy, no temporary file"))
	must.Eq(t, "gpu-workers.hcl", entries[0].Name())
}

func TestTheAgentsPIDComesFromOneFlag(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "agent.pid"), filepath.Join(dir, "bad.pid")
	must.NoError(t, os.WriteFile(good, []byte("4242\n"), 0o644))
	must.NoError(t, os.WriteFile(bad, []byte("nomad"), 0o644))
	pid, err := readPID(0, good)
	must.NoError(t, err)
	must.Eq(t, 4242, pid)
	pid, err = readPID(77, "")
	must.NoError(t, err)
	must.Eq(t, 77, pid)
	for _, tc := range []struct {
		pid  int
		file string
		want string
	}{
		{0, "", "-agent-pid or -agent-pidfile: required with -policy-file"},
		{1, good, "-agent-pid and -agent-pidfile: give one"},
		{-3, "", "-agent-pid -3: not a process ID"},
		{0, bad, `-agent-pidfile ` + bad + `: holds "nomad", not a process ID`},
		{0, filepath.Join(dir, "missing.pid"), "-agent-pidfile: open"},
	} {
		_, err := readPID(tc.pid, tc.file)
		must.ErrorContains(t, err, tc.want)
	}
}
