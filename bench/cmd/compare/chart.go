package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

var colors = map[string]string{implGoPar: "#00add8", implBaseline: "#555555", implNode: "#e76f00"}

// series is one row of panels: a measure of every cell, and its name.
type series struct {
	title string
	med   map[key]float64
}

// Panel geometry, in SVG user units.
const (
	panelW, panelH = 420.0, 300.0
	plotLeft       = 70.0
	plotTop        = 50.0
	plotW, plotH   = 320.0, 200.0
	legendH        = 40.0
)

// chart draws one row of panels per series and one panel per auth method:
// the measure (y, linear from 0) against concurrency (x, evenly spaced
// levels), one line per client, and one legend below.
func chart(o options, rows ...series) []byte {
	width := panelW * float64(len(o.auths))
	height := panelH*float64(len(rows)) + legendH
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	for row, sr := range rows {
		for p, auth := range o.auths {
			panel(&b, o, sr, auth, float64(p)*panelW, float64(row)*panelH)
		}
	}
	for i, impl := range o.impls {
		lx, ly := plotLeft+float64(i)*130, height-14
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n", lx, ly-4, lx+18, ly-4, colors[impl])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+22, ly, html.EscapeString(impl))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// panel draws one auth method's lines with its top-left corner at x0, y0.
func panel(b *bytes.Buffer, o options, sr series, auth string, x0, y0 float64) {
	left, top := x0+plotLeft, y0+plotTop
	maxY := 0.0
	for _, impl := range o.impls {
		for _, c := range o.conc {
			maxY = math.Max(maxY, sr.med[key{auth, impl, c}])
		}
	}
	maxY = niceCeil(maxY)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="13" font-weight="bold">%s</text>`+"\n",
		x0+10, y0+22, html.EscapeString(sr.title))
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x0+10, y0+38, html.EscapeString(auth))
	for i := 0; i <= 4; i++ {
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y, left+plotW, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-6, y+4, maxY*float64(i)/4)
	}
	xAt := func(i int) float64 {
		if len(o.conc) == 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(len(o.conc)-1)
	}
	for i, c := range o.conc {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", xAt(i), top+plotH+18, c)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">concurrency</text>`+"\n", left+plotW/2, top+plotH+36)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, top, left, top+plotH)
	for _, impl := range o.impls {
		var pts bytes.Buffer
		for i, c := range o.conc {
			v := sr.med[key{auth, impl, c}]
			y := top + plotH - plotH*v/maxY
			fmt.Fprintf(&pts, "%.1f,%.1f ", xAt(i), y)
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s c=%d: %.0f</title></circle>`+"\n",
				xAt(i), y, colors[impl], html.EscapeString(impl), c, v)
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n",
			bytes.TrimSpace(pts.Bytes()), colors[impl])
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
