// Package readmecheck keeps the figures of the READMEs true. A README marks
// a region whose figures a command of the repository produces with
// <!-- ID:start --> and <!-- ID:end -->; a Block names the region, the
// command, and a Render function that produces the region's table from
// that command's engine. Check compares the numbers of the table rows
// (lines starting with "|") of the README with those of the rendering and
// fails when any differs by more than 1%. Blocks whose command takes over a
// minute are checked only on request; machine-dependent timings are listed
// with the command that measures them, never compared.
package readmecheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Tolerance is the largest relative difference accepted between a figure
// in a README and the same figure from its command.
const Tolerance = 0.01

// Block is one README region produced by a command.
type Block struct {
	File    string // from the repository root
	ID      string // the region between <!-- ID:start --> and <!-- ID:end -->
	Command string // the command that regenerates it, for people
	// Slow blocks take over a minute to render: checked only with All.
	Slow bool
	// Measured blocks hold timings of this machine: listed, not compared.
	Measured bool
	Render   func(ctx context.Context, c *Cache) (string, error)
}

// Cache memoizes the runs several blocks share (one backtest feeds the
// tables of three READMEs).
type Cache struct {
	Root  string // the repository root the commands run in
	mu    sync.Mutex
	items map[string]*cacheItem
}

type cacheItem struct {
	once sync.Once
	val  any
	err  error
}

// Do runs f once per key and returns its result to every caller.
func (c *Cache) Do(key string, f func() (any, error)) (any, error) {
	c.mu.Lock()
	if c.items == nil {
		c.items = map[string]*cacheItem{}
	}
	it, ok := c.items[key]
	if !ok {
		it = &cacheItem{}
		c.items[key] = it
	}
	c.mu.Unlock()
	it.once.Do(func() { it.val, it.err = f() })
	return it.val, it.err
}

// Status is what Check found for a block.
type Status string

// The statuses of a Result.
const (
	OK       Status = "ok"
	Differs  Status = "DIFFERS"
	Skipped  Status = "slow, not run"
	Listed   Status = "measured on a machine"
	Updated  Status = "rewritten"
	Problems Status = "ERROR"
)

// Result is one block's outcome.
type Result struct {
	Block  Block
	Status Status
	Detail string
}

// Options select what Check does.
type Options struct {
	Root  string // the repository root
	All   bool   // also render the slow blocks
	Write bool   // rewrite each region with its rendering instead of comparing
}

// Check renders and compares every block (the slow ones only with All).
func Check(ctx context.Context, o Options, blocks []Block) []Result {
	c := Cache{Root: o.Root}
	out := make([]Result, len(blocks))
	for i, b := range blocks {
		out[i] = checkOne(ctx, o, &c, b)
	}
	return out
}

func checkOne(ctx context.Context, o Options, c *Cache, b Block) Result {
	r := Result{Block: b}
	path := filepath.Join(o.Root, b.File)
	src, err := os.ReadFile(path)
	if err != nil {
		r.Status, r.Detail = Problems, err.Error()
		return r
	}
	region, err := findRegion(string(src), b.ID)
	if err != nil {
		r.Status, r.Detail = Problems, fmt.Sprintf("%s: %v", b.File, err)
		return r
	}
	switch {
	case b.Measured:
		r.Status = Listed
		return r
	case b.Slow && !o.All:
		r.Status = Skipped
		return r
	}
	rendered, err := b.Render(ctx, c)
	if err != nil {
		r.Status, r.Detail = Problems, err.Error()
		return r
	}
	if o.Write {
		updated := string(src[:region.from]) + "\n" + strings.TrimSpace(rendered) + "\n" + string(src[region.to:])
		if err := writeFile(path, []byte(updated)); err != nil {
			r.Status, r.Detail = Problems, err.Error()
			return r
		}
		r.Status = Updated
		return r
	}
	if d := compare(region.text, rendered); d != "" {
		r.Status, r.Detail = Differs, d
		return r
	}
	r.Status = OK
	return r
}

// region is the text between a block's markers and its byte offsets.
type region struct {
	text     string
	from, to int
}

func findRegion(src, id string) (region, error) {
	start, end := "<!-- "+id+":start -->", "<!-- "+id+":end -->"
	i := strings.Index(src, start)
	if i < 0 {
		return region{}, fmt.Errorf("no %s marker", start)
	}
	from := i + len(start)
	j := strings.Index(src[from:], end)
	if j < 0 {
		return region{}, fmt.Errorf("no %s marker after %s", end, start)
	}
	return region{text: src[from : from+j], from: from, to: from + j}, nil
}

// number matches a figure: digits with optional thousands separators, a
// decimal part and a sign.
var number = regexp.MustCompile(`-?\d[\d,]*(\.\d+)?`)

// figure is one number of a table row and its precision.
type figure struct {
	text  string
	value float64
	step  float64 // the unit of its last digit (0.01 for "1.25")
}

func figures(text string) [][]figure {
	var rows [][]figure
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.Trim(line, "|-: ") == "" {
			continue
		}
		var row []figure
		for _, m := range number.FindAllString(line, -1) {
			plain := strings.ReplaceAll(m, ",", "")
			v, err := strconv.ParseFloat(plain, 64)
			if err != nil {
				continue
			}
			step := 1.0
			if dot := strings.IndexByte(plain, '.'); dot >= 0 {
				step = math.Pow(10, -float64(len(plain)-dot-1))
			}
			row = append(row, figure{text: m, value: v, step: step})
		}
		rows = append(rows, row)
	}
	return rows
}

// compare returns a description of the first figures that differ by more
// than the tolerance (or by more than half a unit of the README's last
// digit, for figures rounded in the README), or "" when they agree.
func compare(readme, rendered string) string {
	want, got := figures(readme), figures(rendered)
	if len(want) != len(got) {
		return fmt.Sprintf("the README has %d table rows, the command gives %d", len(want), len(got))
	}
	var diffs []string
	for i := range want {
		if len(want[i]) != len(got[i]) {
			diffs = append(diffs, fmt.Sprintf("row %d: %d figures in the README, %d from the command", i+1, len(want[i]), len(got[i])))
			continue
		}
		for k := range want[i] {
			w, g := want[i][k], got[i][k]
			allowed := math.Max(Tolerance*math.Abs(g.value), w.step/2+1e-9)
			if math.Abs(w.value-g.value) > allowed {
				diffs = append(diffs, fmt.Sprintf("row %d: README %s, command %s", i+1, w.text, g.text))
			}
		}
	}
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "; ")
}

func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	err = errors.Join(werr, tmp.Chmod(0o644), tmp.Close())
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
