package loadgen

import (
	"bytes"
	"os"
	"path/filepath"
)

// module is this repository's Go module path: the go.mod that names it
// marks the repository root.
const module = "github.com/fleetslope/nomad-gpu-autoscaler"

// DefaultTraceFile is the NASA-HTTP trace shipped in the repository,
// relative to its root.
const DefaultTraceFile = "data/nasa-http-jul95.csv.gz"

// DefaultTrace returns the shipped trace's path, found from the working
// directory upwards so that cmd/loadgen and cmd/demo work from anywhere in
// a clone. Outside a clone it returns DefaultTraceFile as is, and opening
// it then fails with a message naming that path.
func DefaultTrace() string {
	dir, err := os.Getwd()
	if err != nil {
		return DefaultTraceFile
	}
	if root, ok := repoRoot(dir); ok {
		return filepath.Join(root, DefaultTraceFile)
	}
	return DefaultTraceFile
}

// repoRoot walks up from dir to the directory whose go.mod declares module.
func repoRoot(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+module+"\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
