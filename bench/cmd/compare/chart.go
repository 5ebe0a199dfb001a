package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

var colors = map[string]string{implGoPar: "#00add8", implBaseline: "#555555", implNode: "#e76f00"}

// chart draws one panel per auth method: pushes/s (y, linear from 0)
// against concurrency (x, evenly spaced levels), one line per client.
func chart(o options, med map[key]float64) []byte {
	const (
		panelW, panelH = 420.0, 300.0
		left, top      = 70.0, 50.0
		plotW, plotH   = 320.0, 200.0
	)
	width := panelW * float64(len(o.auths))
	height := panelH + 40
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	for p, auth := range o.auths {
		x0 := float64(p) * panelW
		maxY := 0.0
		for _, impl := range o.impls {
			for _, c := range o.conc {
				maxY = math.Max(maxY, med[key{auth, impl, c}])
			}
		}
		maxY = niceCeil(maxY)
		fmt.Fprintf(&b, `<text x="%.1f" y="25" font-size="14" font-weight="bold">PAR pushes/s, %s</text>`+"\n",
			x0+left, html.EscapeString(auth))
		// Axes and grid.
		for i := 0; i <= 4; i++ {
			v := maxY * float64(i) / 4
			y := top + plotH - plotH*float64(i)/4
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x0+left, y, x0+left+plotW, y)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`+"\n", x0+left-6, y+4, v)
		}
		xAt := func(i int) float64 {
			if len(o.conc) == 1 {
				return x0 + left + plotW/2
			}
			return x0 + left + plotW*float64(i)/float64(len(o.conc)-1)
		}
		for i, c := range o.conc {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", xAt(i), top+plotH+18, c)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">concurrency</text>`+"\n", x0+left+plotW/2, top+plotH+36)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x0+left, top+plotH, x0+left+plotW, top+plotH)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x0+left, top, x0+left, top+plotH)
		// One line per client.
		for li, impl := range o.impls {
			var pts bytes.Buffer
			for i, c := range o.conc {
				y := top + plotH
				if maxY > 0 {
					y -= plotH * med[key{auth, impl, c}] / maxY
				}
				fmt.Fprintf(&pts, "%.1f,%.1f ", xAt(i), y)
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s c=%d: %.0f/s</title></circle>`+"\n",
					xAt(i), y, colors[impl], html.EscapeString(impl), c, med[key{auth, impl, c}])
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n",
				bytes.TrimSpace(pts.Bytes()), colors[impl])
			ly := height - 12.0
			lx := x0 + left + float64(li)*110
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n", lx, ly-4, lx+18, ly-4, colors[impl])
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+22, ly, html.EscapeString(impl))
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
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
