package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Layout of the chart, in SVG user units (pixels at 100%): a title block on
// top, one horizontal bar per implementation with its name on the left and
// its ops/s on the right, and the ops/s axis below.
const (
	chartWidth  = 925
	labelWidth  = 110 // left of the bars: implementation names
	valueWidth  = 215 // right of the longest bar: its value, "999.9 Mops/s (interrupted)" at most
	titleHeight = 72
	barHeight   = 30
	barGap      = 14
	axisHeight  = 58 // below the bars: tick labels and the axis title
	plotPad     = 12 // space above the first bar and below the last
)

// barColors gives safemap and the baseline their own colours; the others
// share one.
var barColors = map[string]string{
	"safemap": "#2563eb",
	"syncmap": "#6b7280",
}

// otherColor is the colour of the other implementations' bars.
const otherColor = "#0d9488"

// element is an SVG element for encoding/xml, which escapes its attributes
// and text: a chart with any workload name is well-formed XML.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []*element
}

// el returns the element name with the attributes given as name, value
// pairs.
func el(name string, attrs ...string) *element {
	e := &element{XMLName: xml.Name{Local: name}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return e
}

// text sets e's text and returns e.
func (e *element) text(s string) *element {
	e.Text = s
	return e
}

// add appends children to e and returns e.
func (e *element) add(children ...*element) *element {
	e.Children = append(e.Children, children...)
	return e
}

// num writes a coordinate: at most two decimals, no exponent.
func num(x float64) string { return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64) }

// writeSVG writes rep's bar chart of ops/s per implementation as a
// standalone SVG document. Every bar is a rect of class "bar" in a group of
// class "impl" with a data-impl attribute, next to a text of class "label"
// holding the implementation's name and one of class "value" holding its
// ops/s.
func writeSVG(w io.Writer, rep report) error {
	n := len(rep.Results)
	rows := max(n, 1)
	plotTop := float64(titleHeight)
	plotBottom := plotTop + 2*plotPad + float64(rows*(barHeight+barGap)-barGap)
	height := plotBottom + axisHeight
	plotLeft := float64(labelWidth)
	plotWidth := float64(chartWidth - labelWidth - valueWidth)

	maxOps := 0.0
	for _, r := range rep.Results {
		maxOps = max(maxOps, r.OpsPerSec)
	}
	step, top := axisScale(maxOps)
	x := func(ops float64) float64 { return plotLeft + plotWidth*ops/top }

	title := "mapbench: " + rep.description
	subtitle := fmt.Sprintf("ops/s per implementation, higher is better | %d goroutines, %s each | GOMAXPROCS=%d | %s %s/%s",
		rep.Goroutines, rep.Duration, rep.GOMAXPROCS, rep.GoVersion, rep.GOOS, rep.GOARCH)
	if rep.Interrupted {
		subtitle += " | interrupted"
	}

	svg := el("svg",
		"xmlns", "http://www.w3.org/2000/svg",
		"width", strconv.Itoa(chartWidth), "height", num(height),
		"viewBox", fmt.Sprintf("0 0 %d %s", chartWidth, num(height)),
		"font-family", "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif",
		"font-size", "13")
	svg.add(
		el("title").text(title),
		el("desc").text(subtitle),
		el("rect", "class", "background", "x", "0", "y", "0", "width", "100%", "height", "100%", "fill", "#ffffff"),
		el("text", "class", "title", "x", "16", "y", "28", "font-size", "18", "font-weight", "bold", "fill", "#111827").text(title),
		el("text", "class", "subtitle", "x", "16", "y", "50", "fill", "#4b5563").text(subtitle),
	)

	// The scale: a grid line and a label per tick, the axis line, its title.
	grid := el("g", "class", "axis")
	for k := 0; float64(k)*step <= top*(1+1e-9); k++ {
		v := float64(k) * step
		gx := num(x(v))
		grid.add(
			el("line", "x1", gx, "x2", gx, "y1", num(plotTop), "y2", num(plotBottom), "stroke", "#e5e7eb"),
			el("text", "class", "tick", "x", gx, "y", num(plotBottom+18), "text-anchor", "middle", "fill", "#4b5563").text(tickLabel(v, top)),
		)
	}
	grid.add(
		el("line", "x1", num(plotLeft), "x2", num(plotLeft+plotWidth), "y1", num(plotBottom), "y2", num(plotBottom), "stroke", "#374151"),
		el("line", "x1", num(plotLeft), "x2", num(plotLeft), "y1", num(plotTop), "y2", num(plotBottom), "stroke", "#374151"),
		el("text", "class", "axis-title", "x", num(plotLeft+plotWidth/2), "y", num(plotBottom+42), "text-anchor", "middle", "fill", "#111827").
			text("operations per second"),
	)
	svg.add(grid)

	if n == 0 {
		svg.add(el("text", "class", "empty", "x", num(plotLeft+plotWidth/2), "y", num(plotTop+plotPad+barHeight/2+5),
			"text-anchor", "middle", "fill", "#4b5563").text("no results"))
	}
	for i, r := range rep.Results {
		y := plotTop + plotPad + float64(i*(barHeight+barGap))
		mid := num(y + barHeight/2 + 4.5) // text baseline, centred on the bar
		color, ok := barColors[r.Impl]
		if !ok {
			color = otherColor
		}
		value := formatRate(r.OpsPerSec)
		if r.Interrupted {
			value += " (interrupted)"
		}
		tip := fmt.Sprintf("%s: %.0f ops/s, %.2f ns/op, %.2f allocs/op, %.2f B/op", r.Impl, r.OpsPerSec, r.NsPerOp, r.AllocsPerOp, r.BytesPerOp)
		if r.RatioToSyncmap != nil {
			tip += fmt.Sprintf(", %.2f x %s's ns/op", *r.RatioToSyncmap, rep.Baseline)
		}
		opacity := "1"
		if r.Interrupted {
			opacity = "0.5"
		}
		end := x(r.OpsPerSec)
		svg.add(el("g", "class", "impl", "data-impl", r.Impl).add(
			el("title").text(tip),
			el("rect", "class", "bar", "x", num(plotLeft), "y", num(y), "width", num(end-plotLeft), "height", strconv.Itoa(barHeight),
				"fill", color, "fill-opacity", opacity),
			el("text", "class", "label", "x", num(plotLeft-8), "y", mid, "text-anchor", "end", "fill", "#111827").text(r.Impl),
			el("text", "class", "value", "x", num(end+6), "y", mid, "fill", "#111827").text(value),
		))
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(svg); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// axisScale returns the tick step and the end of an axis that shows max: a
// step of 1, 2 or 5 times a power of ten giving about five ticks.
func axisScale(max float64) (step, top float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 0.2, 1
	}
	rough := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(rough)))
	switch f := rough / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return step, math.Ceil(max/step-1e-9) * step
}

// tickLabel writes the tick value v on an axis ending at top, with the SI
// prefix that suits top: "0", "2.5M", "10M".
func tickLabel(v, top float64) string {
	unit, prefix := 1.0, ""
	switch {
	case top >= 1e9:
		unit, prefix = 1e9, "G"
	case top >= 1e6:
		unit, prefix = 1e6, "M"
	case top >= 1e3:
		unit, prefix = 1e3, "k"
	}
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v/unit, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + prefix
}
