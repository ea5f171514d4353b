package demo

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"os"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	colorTraffic  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colorForecast = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colorCapacity = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colorBilled   = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	colorBacklog  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	zoneColors    = []color.Color{color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}}
)

// writePlot draws the run in three panels sharing the simulated hour axis:
// traffic with the forecast and the serving capacity; workers per zone and
// billed VMs; the backlog.
func writePlot(path string, samples []Sample, capacity float64, title string, loc *time.Location) error {
	if len(samples) < 2 {
		return fmt.Errorf("plot: %d samples, need at least 2", len(samples))
	}
	t0 := samples[0].Sim
	hours := func(i int) float64 { return samples[i].Sim.Sub(t0).Hours() }
	series := func(f func(Sample) float64) plotter.XYs {
		xy := make(plotter.XYs, 0, len(samples))
		for i, s := range samples {
			if v := f(s); !math.IsNaN(v) {
				xy = append(xy, plotter.XY{X: hours(i), Y: v})
			}
		}
		return xy
	}

	traffic := NewPanel(title, "requests / simulated minute")
	AddLine(traffic, "requests", colorTraffic, series(func(s Sample) float64 { return s.RPM }))
	AddLine(traffic, "forecast + margin (strategy Meta demand_up)", colorForecast, series(func(s Sample) float64 { return s.Demand }))
	AddLine(traffic, "serving capacity", colorCapacity, series(func(s Sample) float64 { return float64(s.ReadyTotal()) * capacity }))

	workers := NewPanel("", "workers")
	zones := map[string]bool{}
	for _, s := range samples {
		for z := range s.Ready {
			zones[z] = true
		}
	}
	for i, z := range slices.Sorted(maps.Keys(zones)) {
		AddLine(workers, "serving in "+z, zoneColors[i%len(zoneColors)], series(func(s Sample) float64 { return float64(s.Ready[z]) }))
	}
	AddLine(workers, "serving, both zones", colorCapacity, series(func(s Sample) float64 { return float64(s.ReadyTotal()) }))
	AddLine(workers, "VMs billed (booting, serving, draining)", colorBilled, series(func(s Sample) float64 { return float64(s.Instances) }))

	backlog := NewPanel("", "backlog (requests)")
	backlog.X.Label.Text = "simulated hours since " + t0.In(loc).Format("2006-01-02 15:04 -07:00")
	AddLine(backlog, "waiting requests", colorBacklog, series(func(s Sample) float64 { return float64(s.Backlog()) }))

	const w, h = 30 * vg.Centimeter, 30 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4}
	grid := [][]*plot.Plot{{traffic}, {workers}, {backlog}}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		grid[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// NewPanel is a chart panel as the demo and the soak draw them: a title,
// a y axis from 0, a grid and the legend top left.
func NewPanel(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// AddLine adds a named line to p; an empty series adds nothing.
func AddLine(p *plot.Plot, name string, c color.Color, xy plotter.XYs) {
	if len(xy) == 0 {
		return
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	p.Add(l)
	p.Legend.Add(name, l)
}
