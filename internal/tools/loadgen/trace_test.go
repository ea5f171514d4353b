package loadgen

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func readFixture(t *testing.T) []Minute {
	t.Helper()
	m, err := ReadTraceFile("testdata/trace.csv")
	must.NoError(t, err)
	return m
}

func TestReadTraceKeepsEveryMinuteInOrder(t *testing.T) {
	m := readFixture(t)
	must.Len(t, 5, m)
	must.Eq(t, time.Date(1995, 7, 13, 4, 0, 0, 0, time.UTC), m[0].Start)
	must.Eq(t, 40.0, m[4].Requests)
}

func TestReadTraceFileNamesTheFileOfABadTrace(t *testing.T) {
	// The rules themselves are the backtest reader's, tested there.
	path := filepath.Join(t.TempDir(), "gap.csv")
	must.NoError(t, os.WriteFile(path, []byte("timestamp,requests\n1995-07-13T04:00:00Z,1\n1995-07-13T04:02:00Z,1\n"), 0o644))
	_, err := ReadTraceFile(path)
	must.ErrorContains(t, err, path)
	must.ErrorContains(t, err, "line 3")
}

func TestReadTraceFileReadsTheShippedGzippedTrace(t *testing.T) {
	m, err := ReadTraceFile(DefaultTrace())
	must.NoError(t, err)
	must.Len(t, 39_692, m)
	must.Eq(t, time.Date(1995, 7, 1, 4, 0, 0, 0, time.UTC), m[0].Start)
}

func TestDefaultTraceIsFoundFromAnywhereInTheRepository(t *testing.T) {
	want, err := filepath.Abs(filepath.Join("..", "..", ".."))
	must.NoError(t, err)
	for _, dir := range []string{".", "testdata", "../../../data"} {
		root, ok := repoRoot(dir)
		must.True(t, ok, must.Sprintf("from %s", dir))
		must.Eq(t, want, root, must.Sprintf("from %s", dir))
	}
	must.Eq(t, filepath.Join(want, "data", "nasa-http-jul95.csv.gz"), DefaultTrace())

	_, ok := repoRoot(t.TempDir())
	must.False(t, ok, must.Sprint("outside a clone there is no root"))
}

func TestWindowCutsTheRequestedMinutes(t *testing.T) {
	m := readFixture(t)
	w, err := Window(m, m[1].Start, 3*time.Minute)
	must.NoError(t, err)
	must.Len(t, 3, w)
	must.Eq(t, 20.0, w[0].Requests)
	must.Eq(t, 0.0, w[2].Requests)

	_, err = Window(m, m[3].Start, 5*time.Minute)
	must.ErrorContains(t, err, "outside the trace")
}

func TestScaleToKeepsTheShapeAndHitsTheTotal(t *testing.T) {
	m := ScaleTo(readFixture(t), 1000)
	var sum float64
	for _, x := range m {
		sum += x.Requests
	}
	must.Eq(t, 1000.0, sum)
	must.Eq(t, 2.0, m[1].Requests/m[0].Requests)
	must.Eq(t, 400.0, Peak(m))
}
