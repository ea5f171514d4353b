package tracegen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestWriteWritesOneRowPerMinuteInUTC(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	start := time.Date(1995, 7, 1, 0, 0, 0, 0, time.FixedZone("EDT", -4*3600))
	must.NoError(t, Write(&b, start, []int64{42, 0, 61}))
	must.Eq(t, "timestamp,requests\n"+
		"1995-07-01T04:00:00Z,42\n"+
		"1995-07-01T04:01:00Z,0\n"+
		"1995-07-01T04:02:00Z,61\n", b.String())
}

func TestWriteRejectsANegativeCount(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := Write(&b, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), []int64{1, -2})
	must.ErrorContains(t, err, "minute 2026-03-02T00:01:00Z: negative count -2")
}

func TestWriteFileGivesTheSameBytesForTheSameCounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	a, b := filepath.Join(dir, "a.csv.gz"), filepath.Join(dir, "b.csv.gz")
	must.NoError(t, WriteFile(a, start, []int64{1, 2, 3}))
	must.NoError(t, WriteFile(b, start, []int64{1, 2, 3}))
	ab, err := os.ReadFile(a)
	must.NoError(t, err)
	bb, err := os.ReadFile(b)
	must.NoError(t, err)
	must.Eq(t, ab, bb)
	st, err := os.Stat(a)
	must.NoError(t, err)
	must.Eq(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestWriteFileLeavesNothingBehindWhenItFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.csv")
	err := WriteFile(path, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), []int64{1, -1})
	must.ErrorContains(t, err, `write trace "`+path+`"`)
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.SliceEmpty(t, entries)

	err = WriteFile(filepath.Join(dir, "missing", "trace.csv"), time.Now(), nil)
	must.ErrorContains(t, err, "missing")
}

func TestSummarizeFindsThePeakMinute(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := Summarize(start, []int64{10, 40, 10, 20})
	must.Eq(t, Summary{
		Minutes: 4, MeanPerDay: 20 * MinutesPerDay, Peak: 40,
		PeakAt: start.Add(time.Minute), PeakToMean: 2,
	}, s)
	must.Eq(t, "4 minutes, mean 28800 requests/day, peak 40 requests/min at 2026-03-02T00:01:00Z, peak/mean 2.00", s.String())
	must.Eq(t, Summary{}, Summarize(start, nil))
}
