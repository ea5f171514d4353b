package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
func (rep *Report) WriteFiles(dir string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-out %q: %w", dir, err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, rep.WriteJSON},
		{MarkdownFile, rep.WriteMarkdown},
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
	// CreateTemp makes the file 0600; the outputs are reports to share.
	err = errors.Join(write(f), f.Chmod(0o644), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}
