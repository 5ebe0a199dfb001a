package site

import (
	"fmt"
	"time"
)

// Waterfall is a picture of a login's steps on a time axis: each
// back-channel call and each front-channel hop as a bar from its start to
// its end, with its duration. It is drawn as inline SVG (no script).
type Waterfall struct {
	Width, Height int
	Bars          []Bar
	Ticks         []Tick
	Total         string // the login's span
	AxisY         int
}

// Bar is one step on the waterfall.
type Bar struct {
	Kind, Label string
	Channel     string // "back" (app ↔ provider) or "front" (the browser)
	X, W        string // in SVG units
	Y, TextY    int
	DurX        string
	Dur         string
	Fill        string
}

// Tick is a mark on the time axis.
type Tick struct {
	X     string
	Label string
}

// Geometry of the picture.
const (
	wfWidth  = 760
	wfLabels = 190 // the label column
	wfRight  = 90  // room for the last duration
	wfRow    = 24
	wfTop    = 8
)

// waterfallLabels name the steps on the picture.
var waterfallLabels = map[string]string{
	kindPush:       "Push (PAR)",
	kindAuthorize:  "Browser at the provider",
	kindCallback:   "Callback and exchange",
	kindToken:      "Token request",
	kindJWKS:       "Provider keys (JWKS)",
	kindIDToken:    "ID token checks",
	kindUserinfo:   "UserInfo",
	kindEndSession: "End session",
	kindHTTP:       "Other provider call",
}

// waterfallOf lays the steps of a login out on a time axis; discovery,
// done once when the app started, is left out. Back-channel steps span
// their request; the authorize hop spans the browser's time at the
// provider (until the callback arrives), the callback the app's work until
// the ID token is checked. Nil when there is nothing to draw.
func waterfallOf(steps []Step) *Waterfall {
	type span struct {
		s          Step
		start, end time.Time
		front      bool
	}
	var spans []span
	for i, st := range steps {
		if st.Kind == kindDiscovery || st.At.IsZero() {
			continue
		}
		sp := span{s: st, start: st.At, end: st.At.Add(st.Duration)}
		switch st.Kind {
		case kindAuthorize, kindCallback:
			sp.front = true
			next := kindCallback
			if st.Kind == kindCallback {
				next = kindIDToken
			}
			for _, later := range steps[i+1:] {
				if later.Kind == next {
					sp.end = later.At
					break
				}
			}
		}
		if sp.end.Before(sp.start) {
			sp.end = sp.start
		}
		spans = append(spans, sp)
	}
	if len(spans) == 0 {
		return nil
	}
	t0, t1 := spans[0].start, spans[0].end
	for _, sp := range spans {
		if sp.start.Before(t0) {
			t0 = sp.start
		}
		if sp.end.After(t1) {
			t1 = sp.end
		}
	}
	total := t1.Sub(t0)
	if total <= 0 {
		total = time.Millisecond
	}
	chart := float64(wfWidth - wfLabels - wfRight)
	x := func(t time.Time) float64 { return wfLabels + chart*float64(t.Sub(t0))/float64(total) }
	w := &Waterfall{Width: wfWidth, Total: duration(total)}
	for i, sp := range spans {
		y := wfTop + i*wfRow
		x0, x1 := x(sp.start), x(sp.end)
		if x1-x0 < 2 {
			x1 = x0 + 2 // an instant still shows
		}
		b := Bar{Kind: sp.s.Kind, Label: waterfallLabels[sp.s.Kind], Channel: "back", Fill: "#2f6fde",
			X: f1(x0), W: f1(x1 - x0), Y: y + 4, TextY: y + 16, DurX: f1(x1 + 6), Dur: duration(sp.end.Sub(sp.start))}
		if b.Label == "" {
			b.Label = sp.s.Kind
		}
		if sp.front {
			b.Channel, b.Fill = "front", "#e08a1e"
		}
		if sp.s.Kind == kindIDToken {
			b.Channel, b.Fill, b.Dur = "app", "#2e9b57", "checked"
		}
		w.Bars = append(w.Bars, b)
	}
	w.AxisY = wfTop + len(spans)*wfRow + 4
	w.Height = w.AxisY + 22
	for i := 0; i <= 4; i++ {
		at := time.Duration(float64(total) * float64(i) / 4)
		w.Ticks = append(w.Ticks, Tick{X: f1(wfLabels + chart*float64(i)/4), Label: "+" + duration(at)})
	}
	return w
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// duration prints d for the picture: ms below 10 s.
func duration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}
