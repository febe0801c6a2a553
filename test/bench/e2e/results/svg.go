package results

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Series is one contender's line in the chart: its medians (and min–max
// bars) at each cluster size.
type Series struct {
	Label  string
	Points []Point
}

// Point is one contender at one size.
type Point struct {
	Nodes     int
	Wall, RSS Stat // seconds, MiB
}

// SeriesOf turns measurements into chart series, one per ID in order,
// skipping sizes where every run failed.
func SeriesOf(ms []Measurement, ids []string) []Series {
	var out []Series
	for _, id := range ids {
		s := Series{}
		for _, n := range Sizes(ms) {
			m, ok := find(ms, id, n)
			if !ok || m.Wall().N == 0 {
				continue
			}
			s.Label = m.Label
			s.Points = append(s.Points, Point{Nodes: n, Wall: m.Wall(), RSS: m.RSS()})
		}
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

var palette = []string{"#000000", "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
	"#f032e6", "#9a6324", "#808000", "#469990", "#000075", "#a9a9a9", "#bfef45"}

// dashes tells lines apart where colours are close: the floor and the
// by-hand baselines are drawn dashed.
func dash(label string) string {
	if strings.HasPrefix(label, "floor") || strings.HasPrefix(label, "kubectl") || strings.HasPrefix(label, "by hand") {
		return ` stroke-dasharray="6 3"`
	}
	return ""
}

// WriteSVG draws two panels, wall time and peak RSS against the node count
// (captioned xLabel), both on log scales (the baselines span two orders of
// magnitude), one line per series with min–max bars, and a legend below.
// Plain SVG 1.1, no scripts, no external fonts.
func WriteSVG(w io.Writer, title, xLabel string, series []Series) error {
	const (
		panelW, panelH = 430.0, 300.0
		left, top      = 70.0, 50.0
		gap            = 90.0
		legendRow      = 18.0
	)
	rows := (len(series) + 1) / 2
	width := left + 2*panelW + gap + 30
	height := top + panelH + 60 + float64(rows)*legendRow
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))

	minN, maxN := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			minN, maxN = math.Min(minN, float64(p.Nodes)), math.Max(maxN, float64(p.Nodes))
		}
	}
	if math.IsInf(minN, 0) {
		minN, maxN = 0, 1
	}
	if minN == maxN {
		minN, maxN = minN*0.5, maxN*1.5
	}
	panels := []struct {
		name string
		get  func(Point) Stat
		unit string
	}{
		{"wall time (s)", func(p Point) Stat { return p.Wall }, "s"},
		{"peak RSS (MiB)", func(p Point) Stat { return p.RSS }, "MiB"},
	}
	for pi, panel := range panels {
		x0 := left + float64(pi)*(panelW+gap)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range series {
			for _, p := range s.Points {
				st := panel.get(p)
				if st.Min > 0 {
					lo = math.Min(lo, st.Min)
				}
				hi = math.Max(hi, st.Max)
			}
		}
		if math.IsInf(lo, 0) || hi <= 0 {
			lo, hi = 1, 10
		}
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi == dlo {
			dhi++
		}
		xOf := func(n float64) float64 { return x0 + 20 + (n-minN)/(maxN-minN)*(panelW-40) }
		yOf := func(v float64) float64 {
			return top + panelH - (math.Log10(v)-dlo)/(dhi-dlo)*panelH
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`+"\n", x0, top, panelW, panelH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`+"\n", x0+panelW/2, top-8, panel.name)
		// Log grid: 1, 2, 5 per decade.
		for d := dlo; d <= dhi; d++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, d)
				if v < math.Pow(10, dlo) || v > math.Pow(10, dhi) {
					continue
				}
				y := yOf(v)
				stroke := "#eee"
				if m == 1 {
					stroke = "#ccc"
				}
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x0, y, x0+panelW, y, stroke)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-5, y+4, axisNum(v))
			}
		}
		// X ticks at the measured sizes.
		for _, n := range sizesOf(series) {
			x := xOf(float64(n))
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x, top, x, top+panelH)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x, top+panelH+16, n)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x0+panelW/2, top+panelH+34, html.EscapeString(xLabel))
		for si, s := range series {
			color := palette[si%len(palette)]
			var pts []string
			for _, p := range s.Points {
				st := panel.get(p)
				if st.Median <= 0 {
					continue
				}
				x := xOf(float64(p.Nodes))
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, yOf(st.Median)))
				if st.Min > 0 && st.Max > st.Min {
					fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x, yOf(st.Min), x, yOf(st.Max), color)
				}
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s at %d nodes: %s %s (min %s, max %s)</title></circle>`+"\n",
					x, yOf(st.Median), color, html.EscapeString(s.Label), p.Nodes, num(st.Median), panel.unit, num(st.Min), num(st.Max))
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`+"\n", strings.Join(pts, " "), color, dash(s.Label))
			}
		}
	}
	// Legend, two columns.
	ly := top + panelH + 58
	for si, s := range series {
		color := palette[si%len(palette)]
		x := left + float64(si%2)*(panelW+gap)
		y := ly + float64(si/2)*legendRow
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n", x, y-4, x+24, y-4, color, dash(s.Label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", x+30, y, html.EscapeString(s.Label))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func sizesOf(series []Series) []int {
	var ms []Measurement
	for _, s := range series {
		for _, p := range s.Points {
			ms = append(ms, Measurement{Nodes: p.Nodes})
		}
	}
	return Sizes(ms)
}

func axisNum(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%g", v)
	}
}
