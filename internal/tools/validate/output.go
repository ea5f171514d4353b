package validate

import (
	"encoding/json"
	"io"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/outfiles"
)

// Output file names in the -out directory.
const (
	JSONFile     = "validate.json"
	MarkdownFile = "validate.md"
)

// WriteJSON writes validate.json: every figure of the table, the runs and
// their parameters.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteFiles writes validate.json and validate.md into dir. Both are
// written under temporary names and renamed into place only when both were
// written, so a failed run leaves no truncated file, nor a new file beside
// an older run's.
func (rep *Report) WriteFiles(dir string) error {
	return outfiles.Write("-out", dir,
		outfiles.File{Name: JSONFile, Write: rep.WriteJSON},
		outfiles.File{Name: MarkdownFile, Write: rep.WriteMarkdown})
}
