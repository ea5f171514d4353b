package outfiles

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoenig/test/must"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestAllFilesAppearTogetherReadableByOthers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	must.NoError(t, Write("-out", dir, File{"a.json", text("{}")}, File{"b.csv", text("x\n")}))
	for name, want := range map[string]string{"a.json": "{}", "b.csv": "x\n"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		must.NoError(t, err)
		must.Eq(t, want, string(b))
		st, err := os.Stat(filepath.Join(dir, name))
		must.NoError(t, err)
		must.Eq(t, os.FileMode(0o644), st.Mode().Perm())
	}
}

func TestAFailedFileLeavesTheOlderRunUntouchedAndNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	must.NoError(t, Write("-out", dir, File{"a.json", text("old")}, File{"b.csv", text("old")}))
	err := Write("-out", dir, File{"a.json", text("new")}, File{"b.csv", func(io.Writer) error { return errors.New("disk full") }})
	must.ErrorContains(t, err, "write "+filepath.Join(dir, "b.csv")+": disk full")
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.Len(t, 2, entries, must.Sprint("no temporary file is left"))
	b, err := os.ReadFile(filepath.Join(dir, "a.json"))
	must.NoError(t, err)
	must.Eq(t, "old", string(b))
}

func TestAnUnusableDirectoryNamesTheFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	must.NoError(t, os.WriteFile(file, nil, 0o644))
	must.ErrorContains(t, Write("-out", file), `-out "`+file+`": mkdir`)
}
