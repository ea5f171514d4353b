package demo

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/shoenig/test/must"
)

func TestTheDefaultTraceIsTheShippedOneFromAnySubdirectory(t *testing.T) {
	t.Parallel()
	// The test runs in internal/tools/demo, two levels below the root: the
	// other relative defaults (bin/, policies/) are missing from here, the
	// trace is not.
	o, err := ParseFlags(nil, func(string) string { return "" }, io.Discard)
	must.Error(t, err)
	must.StrNotContains(t, err.Error(), "-trace")
	root, absErr := filepath.Abs(filepath.Join("..", "..", ".."))
	must.NoError(t, absErr)
	must.Eq(t, filepath.Join(root, "data", "nasa-http-jul95.csv.gz"), o.TracePath)
}
