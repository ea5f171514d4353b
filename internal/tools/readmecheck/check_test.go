package readmecheck

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shoenig/test/must"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		name, readme, rendered string
		differs                bool
	}{
		{"the same table agrees", "| a | 1.25 | 28/28 |", "| a | 1.25 | 28/28 |", false},
		{"prose outside the table is not compared", "text 5\n| a | 1 |", "other 7\n| a | 1 |", false},
		{"a figure within 1% agrees", "| a | 1000 |", "| a | 1009 |", false},
		{"a figure off by more than 1% differs", "| a | 1000 |", "| a | 1011 |", true},
		{"rounding in the README is allowed half a unit", "| a | 1.2 |", "| a | 1.249 |", false},
		{"thousands separators are read", "| a | 17,437 |", "| a | 17437.2 |", false},
		{"a missing row differs", "| a | 1 |\n| b | 2 |", "| a | 1 |", true},
		{"a missing figure differs", "| a | 1 | 2 |", "| a | 1 |", true},
		{"a zero that became two differs", "| a | 0 |", "| a | 2 |", true},
		{"separator rows are not rows", "| a |\n|---:|\n| 1 |", "| a |\n| 1 |", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := compare(tc.readme, tc.rendered)
			must.Eq(t, tc.differs, d != "", must.Sprint(d))
		})
	}
}

func writeReadme(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	must.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte(body), 0o644))
	return dir
}

func block(render string, err error) Block {
	return Block{File: "README.md", ID: "t", Command: "cmd", Render: func(context.Context, *Cache) (string, error) { return render, err }}
}

func TestCheckFindsTheRegionAndComparesIt(t *testing.T) {
	dir := writeReadme(t, "intro 3\n<!-- t:start -->\n| x | 10 |\n<!-- t:end -->\nafter\n")
	r := Check(context.Background(), Options{Root: dir}, []Block{block("| x | 10.05 |", nil)})
	must.Eq(t, OK, r[0].Status)
	r = Check(context.Background(), Options{Root: dir}, []Block{block("| x | 12 |", nil)})
	must.Eq(t, Differs, r[0].Status)
	must.StrContains(t, r[0].Detail, "README 10, command 12")
}

func TestCheckReportsAMissingMarkerAndAFailingCommand(t *testing.T) {
	dir := writeReadme(t, "no markers\n")
	r := Check(context.Background(), Options{Root: dir}, []Block{block("", nil)})
	must.Eq(t, Problems, r[0].Status)
	must.StrContains(t, r[0].Detail, "no <!-- t:start --> marker")
	dir = writeReadme(t, "<!-- t:start -->\n<!-- t:end -->\n")
	r = Check(context.Background(), Options{Root: dir}, []Block{block("", errors.New("trace unreadable"))})
	must.Eq(t, Problems, r[0].Status)
}

func TestSlowAndMeasuredBlocksAreListedNotRun(t *testing.T) {
	dir := writeReadme(t, "<!-- t:start -->\n| 1 |\n<!-- t:end -->\n")
	ran := false
	slow := Block{File: "README.md", ID: "t", Slow: true, Render: func(context.Context, *Cache) (string, error) { ran = true; return "| 9 |", nil }}
	measured := Block{File: "README.md", ID: "t", Measured: true}
	r := Check(context.Background(), Options{Root: dir}, []Block{slow, measured})
	must.Eq(t, Skipped, r[0].Status)
	must.Eq(t, Listed, r[1].Status)
	must.False(t, ran)
	r = Check(context.Background(), Options{Root: dir, All: true}, []Block{slow})
	must.True(t, ran)
	must.Eq(t, Differs, r[0].Status)
}

func TestWriteRegeneratesOnlyTheRegion(t *testing.T) {
	dir := writeReadme(t, "before 1\n<!-- t:start -->\n| old | 1 |\n<!-- t:end -->\nafter 2\n")
	r := Check(context.Background(), Options{Root: dir, Write: true}, []Block{block("| new | 5 |\n", nil)})
	must.Eq(t, Updated, r[0].Status)
	got, err := os.ReadFile(filepath.Join(dir, "README.md"))
	must.NoError(t, err)
	must.Eq(t, "before 1\n<!-- t:start -->\n| new | 5 |\n<!-- t:end -->\nafter 2\n", string(got))
}

func TestCacheRunsEachKeyOnce(t *testing.T) {
	var c Cache
	n := 0
	for range 3 {
		v, err := c.Do("k", func() (any, error) { n++; return n, nil })
		must.NoError(t, err)
		must.Eq[any](t, 1, v)
	}
	must.Eq(t, 1, n)
}

// TestEveryBlockHasItsMarkers keeps the registry and the READMEs in step:
// a README edit that drops a marker would silently stop its check.
func TestEveryBlockHasItsMarkers(t *testing.T) {
	for _, b := range Blocks() {
		src, err := os.ReadFile(filepath.Join("..", "..", "..", b.File))
		must.NoError(t, err)
		_, err = findRegion(string(src), b.ID)
		must.NoError(t, err, must.Sprintf("%s %s", b.File, b.ID))
		must.True(t, b.Measured || b.Render != nil, must.Sprintf("%s %s renders", b.File, b.ID))
		must.False(t, strings.TrimSpace(b.Command) == "", must.Sprintf("%s %s names its command", b.File, b.ID))
	}
}

// datedStudies are marked README regions that record a study as it was
// measured, said so beside them, and are not rerun.
var datedStudies = map[string]bool{
	"cmd/backtest/README.md spot-select": true,
	"cmd/backtest/README.md spot-other":  true,
}

// TestEveryMarkedRegionIsChecked finds every start marker in the
// repository's Markdown: a region no block renders goes stale unseen (the
// shapes table did, for a day).
func TestEveryMarkedRegionIsChecked(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	registered := map[string]bool{}
	for _, b := range Blocks() {
		registered[b.File+" "+b.ID] = true
	}
	marker := regexp.MustCompile(`<!-- ([a-z0-9-]+):start -->`)
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "run", "out", "dist", "bin", "tools/agent/bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".md") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range marker.FindAllStringSubmatch(string(src), -1) {
			key := filepath.ToSlash(rel) + " " + m[1]
			found++
			must.True(t, registered[key] || datedStudies[key], must.Sprintf("%s: no block renders it; register one in Blocks or list it in datedStudies", key))
		}
		return nil
	})
	must.NoError(t, err)
	must.Greater(t, len(Blocks())-1, found, must.Sprint("the walk found the READMEs' markers"))
}
