package tracegen

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Header is the first line of a trace file.
const Header = "timestamp,requests"

// Write writes counts in the backtest's trace format: the header
// "timestamp,requests", then one row per minute from start, with the start
// of the minute in RFC 3339 UTC and the count. A negative count is an
// error: the backtest would reject the file.
func Write(w io.Writer, start time.Time, counts []int64) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(Header + "\n"); err != nil {
		return err
	}
	start = start.UTC()
	row := make([]byte, 0, 48)
	for i, c := range counts {
		t := start.Add(time.Duration(i) * time.Minute)
		if c < 0 {
			return fmt.Errorf("minute %s: negative count %d", t.Format(time.RFC3339), c)
		}
		row = t.AppendFormat(row[:0], time.RFC3339)
		row = append(row, ',')
		row = strconv.AppendInt(row, c, 10)
		row = append(row, '\n')
		if _, err := bw.Write(row); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes the trace to path, gzip-compressed when the name ends
// in ".gz". It writes a temporary file beside path and renames it, so a
// failed run never leaves a truncated trace that a backtest would replay.
// The gzip header carries no name or time, so the bytes depend only on the
// counts.
func WriteFile(path string, start time.Time, counts []int64) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write trace %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeTo(tmp, strings.HasSuffix(path, ".gz"), start, counts); err != nil {
		return fmt.Errorf("write trace %q: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write trace %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write trace %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write trace %q: %w", path, err)
	}
	return nil
}

func writeTo(w io.Writer, compress bool, start time.Time, counts []int64) error {
	if !compress {
		return Write(w, start, counts)
	}
	gz := gzip.NewWriter(w)
	return errors.Join(Write(gz, start, counts), gz.Close())
}
