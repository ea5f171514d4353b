package backtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Output file names in the -out directory.
const (
	SummaryFile  = "summary.json"
	TimelineFile = "timeline.csv"
	ReportFile   = "report.png"
)

// WriteOutputs writes summary.json, timeline.csv and report.png into dir,
// creating it when needed. Each file is written to a temporary name first
// and the three are renamed into place only when all were written, so a
// failed or interrupted run never leaves a truncated file, nor new files
// beside an older run's, that a reader would take for a result.
func (r *Result) WriteOutputs(dir string) error {
	return writeOutputs(dir, []outputFile{
		{SummaryFile, r.WriteSummary},
		{TimelineFile, r.WriteTimeline},
		{ReportFile, r.WriteReport},
	})
}

// outputFile is one file of a run's outputs and what writes it.
type outputFile struct {
	name  string
	write func(io.Writer) error
}

// writeOutputs writes files into dir, creating it when needed, each to a
// temporary name first; they are renamed into place only when all were
// written.
func writeOutputs(dir string, files []outputFile) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-out %q: %w", dir, err)
	}
	temps := make([]string, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(filepath.Join(dir, f.name), f.write)
		if err != nil {
			return err
		}
		temps = append(temps, tmp)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// writeTemp writes what path will hold into a temporary file beside it and
// returns the temporary file's name.
func writeTemp(path string, write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	err = write(f)
	// CreateTemp makes the file 0600; the outputs are reports to share like
	// any file the user creates.
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}
