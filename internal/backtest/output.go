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
// creating it when needed.
func (r *Result) WriteOutputs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-out %q: %w", dir, err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{SummaryFile, r.WriteSummary},
		{TimelineFile, r.WriteTimeline},
		{ReportFile, r.WriteReport},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
