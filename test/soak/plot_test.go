package soak

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/demo"
)

var (
	colorTraffic  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colorCapacity = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colorTarget   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colorBilled   = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	colorBacklog  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// writePlot draws the run in four panels on the simulated hour axis:
// traffic against serving capacity; nodes, MIG totals and serving workers;
// the backlog; and when each fault was on.
func writePlot(file string, rep report) error {
	s := rep.samples
	if len(s) < 2 {
		return fmt.Errorf("plot: %d samples, need at least 2", len(s))
	}
	t0 := s[0].Sim
	x := func(i int) float64 { return s[i].Sim.Sub(t0).Hours() }
	series := func(f func(i int) (float64, bool)) plotter.XYs {
		var xy plotter.XYs
		for i := range s {
			if v, ok := f(i); ok {
				xy = append(xy, plotter.XY{X: x(i), Y: v})
			}
		}
		return xy
	}
	// The traffic, in requests per simulated minute, over 10-minute windows.
	rate := func(i int) (float64, bool) {
		j := i
		for j > 0 && s[i].Sim.Sub(s[j].Sim).Minutes() < 10 {
			j--
		}
		mins := s[i].Sim.Sub(s[j].Sim).Minutes()
		if mins <= 0 {
			return 0, false
		}
		return float64(s[i].Published-s[j].Published) * rep.Sample / mins, true
	}
	title := fmt.Sprintf("soak %s: %s from %s, %.0fM requests/day, %d faults; lost %d, leaked VMs %d, left ineligible %d, nodes peak %d",
		rep.Profile, rep.Simulated, rep.Start, rep.DailyVolume/1e6, len(rep.Faults), rep.Lost, rep.LeakedVMs, rep.NodesLeftIneligible, rep.NodesPeak)
	traffic := demo.NewPanel(title, "requests / simulated minute")
	demo.AddLine(traffic, "requests published (sample x factor)", colorTraffic, series(rate))
	demo.AddLine(traffic, "serving capacity", colorCapacity, series(func(i int) (float64, bool) { return float64(s[i].Serving) * capacityPerWorker, true }))

	nodes := demo.NewPanel("", "nodes")
	demo.AddLine(nodes, "MIG target total", colorTarget, series(func(i int) (float64, bool) { return float64(s[i].Target), true }))
	demo.AddLine(nodes, "MIG instances (booting, serving, deleting)", colorBilled, series(func(i int) (float64, bool) { return float64(s[i].Instances), true }))
	demo.AddLine(nodes, "serving workers", colorCapacity, series(func(i int) (float64, bool) { return float64(s[i].Serving), true }))

	backlog := demo.NewPanel("", "backlog (requests)")
	demo.AddLine(backlog, "published, not yet consumed", colorBacklog, series(func(i int) (float64, bool) {
		return float64(s[i].Published-s[i].Consumed) * rep.Sample, true
	}))

	faults := demo.NewPanel("", "faults")
	faults.X.Label.Text = "simulated hours since " + rep.Start
	kinds := map[string]int{}
	for _, f := range rep.Faults {
		if _, ok := kinds[f.Kind]; !ok {
			kinds[f.Kind] = len(kinds)
		}
		y := float64(kinds[f.Kind] + 1)
		from := f.At.Sub(t0).Hours()
		to := from + max(f.HeldRealS*rep.Compression/3600, 0.15)
		l, err := plotter.NewLine(plotter.XYs{{X: from, Y: y}, {X: to, Y: y}})
		if err != nil {
			continue
		}
		l.Width = vg.Points(5)
		l.Color = plotutilColor(kinds[f.Kind])
		faults.Add(l)
		if f == firstOf(rep.Faults, f.Kind) {
			faults.Legend.Add(f.Kind, l)
		}
	}
	faults.Y.Max = float64(len(kinds) + 1)

	const w, h = 32 * vg.Centimeter, 36 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 4, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4}
	grid := [][]*plot.Plot{{traffic}, {nodes}, {backlog}, {faults}}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		grid[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func firstOf(fs []faultRecord, kind string) faultRecord {
	for _, f := range fs {
		if f.Kind == kind {
			return f
		}
	}
	return faultRecord{}
}

var faultColors = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

func plotutilColor(i int) color.Color { return faultColors[i%len(faultColors)] }
