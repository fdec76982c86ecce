package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chart is what parseChart finds in an SVG document.
type chart struct {
	title  string   // the svg's <title>
	bars   []string // the label of each rect of class bar, in order
	widths []float64
	values []string // the value text next to each bar
}

// parseChart reads data as XML to its end, checks that the root is an svg
// element in the SVG namespace, and collects the bars: each rect of class
// "bar" must sit in a group with a text of class "label".
func parseChart(t *testing.T, data []byte) chart {
	t.Helper()
	var c chart
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []xml.StartElement
	type group struct {
		impl, label, value string
		bars               int
		width              float64
	}
	var g *group
	rects := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", tok.Name)
			}
			stack = append(stack, tok)
			switch class := attr(tok, "class"); {
			case tok.Name.Local == "g" && class == "impl":
				g = &group{impl: attr(tok, "data-impl")}
			case tok.Name.Local == "rect" && class == "bar":
				rects++
				if g == nil {
					t.Fatal("a bar outside an impl group")
				}
				g.bars++
				w, err := strconv.ParseFloat(attr(tok, "width"), 64)
				if err != nil || w < 0 {
					t.Errorf("bar width %q", attr(tok, "width"))
				}
				g.width = w
			}
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			switch {
			case len(stack) == 2 && top.Name.Local == "title":
				c.title += string(tok)
			case g != nil && top.Name.Local == "text" && attr(top, "class") == "label":
				g.label += string(tok)
			case g != nil && top.Name.Local == "text" && attr(top, "class") == "value":
				g.value += string(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if tok.Name.Local == "g" && g != nil {
				if g.bars != 1 || g.label != g.impl {
					t.Errorf("group %s has %d bars and label %q", g.impl, g.bars, g.label)
				}
				c.bars = append(c.bars, g.label)
				c.widths = append(c.widths, g.width)
				c.values = append(c.values, g.value)
				g = nil
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	if rects != len(c.bars) {
		t.Errorf("%d bars for %d implementations", rects, len(c.bars))
	}
	return c
}

// attr returns the value of e's attribute name, "" if it has none.
func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestSVG(t *testing.T) {
	c, err := parseArgs([]string{"-duration", "1s"})
	if err != nil {
		t.Fatal(err)
	}
	out := outcome{results: []result{
		{impl: "safemap", ops: 30_000_000, elapsed: time.Second},
		{impl: "syncmap", ops: 10_000_000, elapsed: time.Second, mallocs: 5_000_000, bytes: 80_000_000},
		{impl: "rwmutex", ops: 2_000_000, elapsed: 500 * time.Millisecond, interrupted: true},
	}, skipped: []string{"xsyncv4"}, interrupted: true}
	var buf bytes.Buffer
	if err := writeSVG(&buf, newReport(c, out)); err != nil {
		t.Fatal(err)
	}
	ch := parseChart(t, buf.Bytes())
	if !equal(ch.bars, []string{"safemap", "syncmap", "rwmutex"}) {
		t.Errorf("bars %q", ch.bars)
	}
	// Bars are proportional to ops/s: 30M, 10M and 4M.
	if r := ch.widths[0] / ch.widths[1]; r < 2.99 || r > 3.01 {
		t.Errorf("widths %v not proportional to ops/s", ch.widths)
	}
	if r := ch.widths[1] / ch.widths[2]; r < 2.49 || r > 2.51 {
		t.Errorf("widths %v not proportional to ops/s", ch.widths)
	}
	for i, want := range []string{"30.0 Mops/s", "10.0 Mops/s", "4.0 Mops/s (interrupted)"} {
		if ch.values[i] != want {
			t.Errorf("value label %q, want %q", ch.values[i], want)
		}
	}
	s := buf.String()
	if !strings.Contains(ch.title, "mixed (90% reads, 10000 int keys)") {
		t.Errorf("title %q", ch.title)
	}
	for _, tick := range []string{">0<", ">10M<", ">20M<", ">30M<"} {
		if !strings.Contains(s, tick) {
			t.Errorf("no axis tick %s", tick)
		}
	}
	if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, `viewBox="0 0 925 `) {
		t.Errorf("not a standalone SVG document:\n%s", s)
	}
}

// Text that means something in XML is escaped; a run without results still
// makes a valid chart.
func TestSVGEscapingAndEmpty(t *testing.T) {
	rep := report{description: `a<b & "c" ]]>`, GoVersion: "go<1>", Results: []resultReport{}}
	var buf bytes.Buffer
	if err := writeSVG(&buf, rep); err != nil {
		t.Fatal(err)
	}
	ch := parseChart(t, buf.Bytes())
	if len(ch.bars) != 0 || ch.title != `mapbench: a<b & "c" ]]>` {
		t.Errorf("bars %q, title %q", ch.bars, ch.title)
	}
	if !strings.Contains(buf.String(), "no results") {
		t.Error("an empty chart does not say it is empty")
	}
}

func TestAxisScale(t *testing.T) {
	for _, tc := range []struct{ max, step, top float64 }{
		{0, 0.2, 1},
		{1, 0.2, 1},
		{7, 2, 8},
		{45.4e6, 10e6, 50e6},
		{50e6, 10e6, 50e6},
		{12e6, 5e6, 15e6},
		{999, 200, 1000},
		{3.2e9, 1e9, 4e9},
	} {
		step, top := axisScale(tc.max)
		if !near(step, tc.step) || !near(top, tc.top) {
			t.Errorf("axisScale(%g) = %g, %g; want %g, %g", tc.max, step, top, tc.step, tc.top)
		}
	}
	for _, tc := range []struct {
		v, top float64
		want   string
	}{
		{0, 50e6, "0"}, {10e6, 50e6, "10M"}, {2.5e6, 5e6, "2.5M"}, {3 * 0.1e6, 1e6, "0.3M"},
		{400, 1000, "0.4k"}, {1e9, 4e9, "1G"}, {0.6, 1, "0.6"},
	} {
		if got := tickLabel(tc.v, tc.top); got != tc.want {
			t.Errorf("tickLabel(%g, %g) = %q, want %q", tc.v, tc.top, got, tc.want)
		}
	}
}

// near reports whether a and b agree to one part in a billion.
func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*max(a, b, 1)
}

// Was (svg.go): the value column was 170 units wide, and the longest
// value label, an interrupted bar's "999.9 Mops/s (interrupted)", ran past
// the chart's right edge when that bar was the longest. Every value label
// must end inside the chart, its width taken at 0.6 em a character (13
// units a em; the widest of the usual sans-serif fonts average less).
func TestSVGValueLabelsFit(t *testing.T) {
	rep := report{description: "fit", Results: []resultReport{
		{Impl: "safemap", OpsPerSec: 999.94e6, NsPerOp: 1, Interrupted: true},
		{Impl: "syncmap", OpsPerSec: 5e6, NsPerOp: 200},
	}}
	var buf bytes.Buffer
	if err := writeSVG(&buf, rep); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	found := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "text" {
			continue
		}
		var class, x string
		for _, a := range start.Attr {
			switch a.Name.Local {
			case "class":
				class = a.Value
			case "x":
				x = a.Value
			}
		}
		if class != "value" {
			continue
		}
		var text string
		if err := dec.DecodeElement(&text, &start); err != nil {
			t.Fatal(err)
		}
		left, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatal(err)
		}
		found++
		if right := left + 0.6*13*float64(len(text)); right > chartWidth {
			t.Errorf("value label %q ends at about %.0f, past the chart's width %d", text, right, chartWidth)
		}
	}
	if found != 2 {
		t.Errorf("%d value labels, want 2", found)
	}
}
