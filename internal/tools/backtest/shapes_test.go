package backtest

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

const shapesFile = `# a comment, then a blank line

name,gpus,workers_per_vm,capacity_per_worker,price_per_hour,lead
g2-standard-8, 1, 1, 100, 0.853624312, 5m
  # an indented comment
g2-standard-24,2,2,100,2.000832696,5m
a3-highgpu-1g,1,1,691.5,11.06,90s
`

func TestReadShapesCSVReadsEveryRowAndSkipsCommentsAndBlankLines(t *testing.T) {
	t.Parallel()
	shapes, err := ReadShapesCSV(strings.NewReader(shapesFile))
	must.NoError(t, err)
	must.Eq(t, []Shape{
		{Name: "g2-standard-8", GPUs: 1, WorkersPerVM: 1, CapacityPerWorker: 100, PricePerHour: 0.853624312, Lead: 5 * time.Minute, Line: 4},
		{Name: "g2-standard-24", GPUs: 2, WorkersPerVM: 2, CapacityPerWorker: 100, PricePerHour: 2.000832696, Lead: 5 * time.Minute, Line: 6},
		{Name: "a3-highgpu-1g", GPUs: 1, WorkersPerVM: 1, CapacityPerWorker: 691.5, PricePerHour: 11.06, Lead: 90 * time.Second, Line: 7},
	}, shapes)
	must.Eq(t, 200.0, shapes[1].CapacityPerVM())
}

func TestReadShapesCSVRefusesBadFiles(t *testing.T) {
	t.Parallel()
	const header = ShapesHeader + "\n"
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"an empty file", "", []string{"no header"}},
		{"only comments", "# nothing\n\n", []string{"no header"}},
		{"a header with another column order", "name,gpus,capacity_per_worker,workers_per_vm,price_per_hour,lead\n",
			[]string{`line 1: header is "name,gpus,capacity_per_worker,workers_per_vm,price_per_hour,lead"`}},
		{"a header without rows", header, []string{"line 1: no shapes after the header"}},
		{"a row with too few fields", header + "a,1,1,100,0.5\n", []string{"line 2: 5 fields, want 6"}},
		{"a row with too many fields", header + "a,1,1,100,0.5,5m,x\n", []string{"line 2: 7 fields, want 6"}},
		{"an empty name", header + ",1,1,100,0.5,5m\n", []string{`line 2: name "": want a name`}},
		{"a fractional GPU count", header + "a,1.5,1,100,0.5,5m\n", []string{`line 2: gpus "1.5": want a whole number from 1 to 1024`}},
		{"zero workers", header + "a,1,0,100,0.5,5m\n", []string{`line 2: workers_per_vm "0": want a whole number`}},
		{"a capacity that is not a number", header + "a,1,1,lots,0.5,5m\n", []string{`line 2: capacity_per_worker "lots": want a number > 0`}},
		{"a negative capacity", header + "a,1,1,-100,0.5,5m\n", []string{`line 2: capacity_per_worker "-100": want a number > 0`}},
		{"an infinite capacity", header + "a,1,1,Inf,0.5,5m\n", []string{`line 2: capacity_per_worker "Inf": want a number > 0`}},
		{"a zero price", header + "a,1,1,100,0,5m\n", []string{`line 2: price_per_hour "0": want a number > 0`}},
		{"a price with a currency sign", header + "a,1,1,100,$0.5,5m\n", []string{`line 2: price_per_hour "$0.5": want a number > 0`}},
		{"a lead without a unit", header + "a,1,1,100,0.5,5\n", []string{`line 2: lead "5": want a duration such as 5m or 90s`}},
		{"a zero lead", header + "a,1,1,100,0.5,0s\n", []string{`line 2: lead "0s": want a duration > 0 and at most 24h`}},
		{"a negative lead", header + "a,1,1,100,0.5,-5m\n", []string{`line 2: lead "-5m": want a duration > 0`}},
		{"a lead of two days", header + "a,1,1,100,0.5,48h\n", []string{`line 2: lead "48h": want a duration > 0 and at most 24h`}},
		{"a duplicate name", header + "a,1,1,100,0.5,5m\n# x\na,2,2,100,1,5m\n", []string{`line 4: name "a": already used on line 2`}},
		{"every problem of every row at once", header + "a,0,1,x,0.5,5m\nb,1,1,100,-1,soon\na,1,1,100,0.5,5m\n", []string{
			`line 2: gpus "0"`, `line 2: capacity_per_worker "x"`,
			`line 3: price_per_hour "-1"`, `line 3: lead "soon"`,
			`line 4: name "a": already used on line 2`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadShapesCSV(strings.NewReader(tc.in))
			must.Error(t, err)
			for _, w := range tc.want {
				must.StrContains(t, err.Error(), w)
			}
		})
	}
}

func TestReadShapesFileNamesTheFile(t *testing.T) {
	t.Parallel()
	_, err := ReadShapesFile("testdata/does-not-exist.csv")
	must.ErrorContains(t, err, "-shapes: open testdata/does-not-exist.csv")
	path := writeFile(t, "shapes.csv", "name\n")
	_, err = ReadShapesFile(path)
	must.ErrorContains(t, err, `-shapes "`+path+`": line 1: header is "name"`)
}

func TestTheShippedShapesFileParses(t *testing.T) {
	t.Parallel()
	shapes, err := ReadShapesFile("../../../deploy/gpu-shapes.csv")
	must.NoError(t, err)
	must.SliceLen(t, 8, shapes)
	p, err := LoadPolicy("../../../policies/gpu-workers.hcl", "")
	must.NoError(t, err)
	must.NoError(t, checkShapes(p, shapes))
}

func TestShapePolicySizesEverySlopeCheckForTheVMAndLeavesThePolicyAlone(t *testing.T) {
	t.Parallel()
	p, err := LoadPolicy("../../../policies/gpu-workers.hcl", "")
	must.NoError(t, err)
	before := map[string]map[string]string{}
	for _, c := range p.Checks {
		before[c.Name] = maps.Clone(c.Strategy.Config)
	}
	s := Shape{Name: "2xL4", GPUs: 2, WorkersPerVM: 2, CapacityPerWorker: 100, PricePerHour: 2, Lead: 7 * time.Minute}
	got, err := shapePolicy(p, s)
	must.NoError(t, err)
	rate, backlog := got.Checks[0].Strategy.Config, got.Checks[1].Strategy.Config
	// The count is VMs: a VM of two workers serves 200 a minute.
	must.Eq(t, "200", rate["capacity_per_worker"])
	must.Eq(t, "200", backlog["capacity_per_worker"])
	// The shipped rate check sets lead 5m and horizon 8m: both move by 2m.
	must.Eq(t, "7m0s", rate["lead"])
	must.Eq(t, "10m0s", rate["horizon"])
	// The backlog check sets no lead and gets none.
	_, hasLead := backlog["lead"]
	must.False(t, hasLead)
	for _, c := range p.Checks {
		must.Eq(t, before[c.Name], c.Strategy.Config)
	}
	must.NotEq(t, p.Checks[0], got.Checks[0])
}

func TestShapePolicyRefusesWhatCannotFollowTheShape(t *testing.T) {
	t.Parallel()
	s := Shape{Name: "l4", GPUs: 1, WorkersPerVM: 1, CapacityPerWorker: 100, PricePerHour: 1, Lead: 5 * time.Minute}
	tv, err := LoadPolicy("testdata/target-value.hcl", "")
	must.NoError(t, err)
	_, err = shapePolicy(tv, s)
	must.ErrorContains(t, err, "has no strategy-slope check")

	p, err := LoadPolicy("testdata/slope.hcl", "")
	must.NoError(t, err)
	p.Checks[0].Strategy.Config["lead"] = "soon"
	_, err = shapePolicy(p, s)
	must.ErrorContains(t, err, `shape "l4": check "request-rate": lead "soon": want a duration`)
}

func TestSortShapesPutsTheCheapestThatMeetTheSLAFirst(t *testing.T) {
	t.Parallel()
	shape := func(name string, met, days int, cost float64) ShapeResult {
		return ShapeResult{Shape: Shape{Name: name}, Policy: StrategyResult{Score: Score{DaysMet: met, Days: days}, Cost: cost}}
	}
	got := []ShapeResult{
		shape("cheap-but-missed-1", 27, 28, 10),
		shape("met-dear", 28, 28, 300),
		shape("missed-2-dear", 26, 28, 50),
		shape("met-cheap", 28, 28, 100),
		shape("cheap-but-missed-1-dearer", 27, 28, 20),
		shape("met-cheap-tie", 28, 28, 100),
	}
	sortShapes(got)
	names := make([]string, len(got))
	for i, s := range got {
		names[i] = s.Shape.Name
	}
	must.Eq(t, []string{"met-cheap", "met-cheap-tie", "met-dear", "cheap-but-missed-1", "cheap-but-missed-1-dearer", "missed-2-dear"}, names)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	must.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}
