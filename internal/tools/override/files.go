package override

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A policy file is replaced the one way agent v0.5.0 takes a change on
// SIGHUP: it keeps the first version it decoded for a file path and policy
// name for as long as it runs (policy/file/source.go), even after the file
// is removed, so the edited policy goes to a file name the agent has never
// seen, and the old file is removed before the signal.

// versionSuffix is the time stamp a previous edit added to the file name.
var versionSuffix = regexp.MustCompile(`\.\d{8}T\d{9}Z(-\d+)?$`)

// versionedName is the file name of an edit made at now: the original
// name's stem and the time to the millisecond, e.g.
// gpu-workers.20261201T173000123Z.hcl. Times only grow, so the agent has
// never seen the name; a name that exists already gets a counter.
func versionedName(oldPath string, now time.Time, exists func(string) bool) string {
	dir, base := filepath.Split(oldPath)
	ext := filepath.Ext(base)
	stem := versionSuffix.ReplaceAllString(strings.TrimSuffix(base, ext), "")
	stamp := now.UTC().Format("20060102T150405.000Z")
	stamp = strings.Replace(stamp, ".", "", 1)
	name := filepath.Join(dir, stem+"."+stamp+ext)
	for i := 2; exists(name); i++ {
		name = filepath.Join(dir, stem+"."+stamp+"-"+strconv.Itoa(i)+ext)
	}
	return name
}

// replacePolicyFile writes content under a new name in the old file's
// directory and removes the old file. The new file appears whole (written
// to a temporary name the agent does not read, synced, then linked, which
// never replaces an existing file); if the old file cannot be removed, the
// new one is removed again and the directory is as before.
func replacePolicyFile(oldPath string, content []byte, now time.Time) (string, error) {
	info, err := os.Stat(oldPath)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(oldPath)
	tmp, err := os.CreateTemp(dir, ".override-*.tmp")
	if err != nil {
		return "", fmt.Errorf("write the edited policy: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write the edited policy: %w", err)
	}
	if err := errors.Join(tmp.Chmod(info.Mode().Perm()), tmp.Sync(), tmp.Close()); err != nil {
		return "", fmt.Errorf("write the edited policy: %w", err)
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return !errors.Is(err, fs.ErrNotExist) }
	newPath := versionedName(oldPath, now, exists)
	if err := os.Link(tmp.Name(), newPath); err != nil {
		return "", fmt.Errorf("write the edited policy: %w", err)
	}
	if err := os.Remove(oldPath); err != nil {
		return "", errors.Join(fmt.Errorf("remove %s (the edited copy was removed again): %w", oldPath, err), os.Remove(newPath))
	}
	return newPath, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// readPID reads the agent's process ID from -agent-pid or -agent-pidfile.
func readPID(pid int, pidFile string) (int, error) {
	switch {
	case pid != 0 && pidFile != "":
		return 0, errors.New("-agent-pid and -agent-pidfile: give one")
	case pid < 0:
		return 0, fmt.Errorf("-agent-pid %d: not a process ID", pid)
	case pid > 0:
		return pid, nil
	case pidFile == "":
		return 0, errors.New("-agent-pid or -agent-pidfile: required with -policy-file: the agent is sent SIGHUP to read the edited policy")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("-agent-pidfile: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("-agent-pidfile %s: holds %q, not a process ID", pidFile, strings.TrimSpace(string(b)))
	}
	return n, nil
}
