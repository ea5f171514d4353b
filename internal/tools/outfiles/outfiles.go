// Package outfiles writes a tool's report files (the -out directory of the
// backtest, validate, sli) all or none: each file is written under a
// temporary name beside its final one, and all are renamed into place only
// once every one was written, so a failed or interrupted run never leaves a
// truncated file, nor new files beside an older run's, that a reader would
// take for a result.
package outfiles

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is one file of a report and what writes it.
type File struct {
	Name  string
	Write func(io.Writer) error
}

// Write writes files into dir, creating dir when needed (an error names
// flag, the option that gave dir).
func Write(flag, dir string, files ...File) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %q: %w", flag, dir, err)
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
		tmp, err := writeTemp(filepath.Join(dir, f.Name), f.Write)
		if err != nil {
			return err
		}
		temps = append(temps, tmp)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, f.Name), err)
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
	// CreateTemp makes the file 0600; the outputs are reports to share like
	// any file the user creates.
	err = errors.Join(write(f), f.Chmod(0o644), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}
