package backtest

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/outfiles"
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
	return outfiles.Write("-out", dir,
		outfiles.File{Name: SummaryFile, Write: r.WriteSummary},
		outfiles.File{Name: TimelineFile, Write: r.WriteTimeline},
		outfiles.File{Name: ReportFile, Write: r.WriteReport})
}
