package charts

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Health is what the chart of one flow's month shows.
type Health struct {
	// Title heads the chart ("purchase · 2026-11"); it is drawn with the
	// Go fonts in English charts, whose glyphs are Latin only, so callers
	// pass ids and numbers.
	Title string
	// Weeks are oldest first.
	Weeks []Week
	// Steps are the approval steps in the flow's order.
	Steps []Step
	// Bottleneck is the id of the step drawn in red ("" when none).
	Bottleneck string
	// Lang is the labels' language: "zh" for Chinese where the machine
	// has a CJK font (CJKFontPaths), English otherwise.
	Lang string
}

// labels are a chart's fixed texts in one language.
type labels struct{ filed, decision, waiting, noData, bottleneck, days string }

var (
	labelsEN = labels{
		filed:      "requests filed per week",
		decision:   "median time to a decision per week (working days)",
		waiting:    "share of waiting time by step (median wait, working days)",
		noData:     "no data",
		bottleneck: "bottleneck",
		days:       "d",
	}
	labelsZH = labels{
		filed:      "每周提交的申请",
		decision:   "每周审批用时中位数（工作日）",
		waiting:    "各步骤等待时间占比（等待中位数，工作日）",
		noData:     "暂无数据",
		bottleneck: "瓶颈",
		days:       "天",
	}
)

// CJKFontPaths are where NewRenderer looks for a font with Chinese
// glyphs (Debian's fonts-wqy-microhei and fonts-noto-cjk), in order. The
// Go fonts embedded in the binary have none.
func CJKFontPaths() []string {
	return []string{
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	}
}

// Week is one week's figures.
type Week struct {
	Start  time.Time
	Filed  int
	Median float64 // median time to a decision, in working days (0: none decided)
}

// Step is one step's part of the waiting time.
type Step struct {
	ID     string
	Share  float64 // 0..1
	Median float64 // median wait, working days
}

// Size of the image in pixels.
const (
	Width  = 720
	Height = 520
)

var (
	white  = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink    = color.RGBA{0x22, 0x22, 0x22, 0xff}
	grey   = color.RGBA{0x99, 0x99, 0x99, 0xff}
	light  = color.RGBA{0xe6, 0xe6, 0xe6, 0xff}
	blue   = color.RGBA{0x45, 0x75, 0xb4, 0xff}
	orange = color.RGBA{0xfc, 0x8d, 0x59, 0xff}
	red    = color.RGBA{0xb3, 0x00, 0x00, 0xff}
	calm   = color.RGBA{0xfd, 0xd4, 0x9e, 0xff}
)

type faces struct{ regular, bold, small font.Face }

// Renderer draws charts. Its font faces are not safe for concurrent use,
// so it draws one chart at a time; make one per process and share it.
type Renderer struct {
	mu sync.Mutex
	f  faces
	// cjk are the faces of the first font of cjkPaths that has Chinese
	// glyphs, loaded at the first Chinese chart (nil: none found).
	cjk      *faces
	cjkTried bool
	cjkPaths []string
}

// NewRenderer parses the embedded Go fonts.
func NewRenderer() (*Renderer, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("charts: parse font: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("charts: parse font: %w", err)
	}
	var errs []error
	mk := func(f *opentype.Font, size float64) font.Face {
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			errs = append(errs, err)
		}
		return face
	}
	r := &Renderer{f: faces{regular: mk(reg, 13), bold: mk(bold, 16), small: mk(reg, 11)}, cjkPaths: CJKFontPaths()}
	if len(errs) > 0 {
		return nil, fmt.Errorf("charts: font face: %w", errs[0])
	}
	return r, nil
}

// WithCJKFonts sets where the renderer looks for a font with Chinese
// glyphs (none: Chinese charts get English labels).
func (r *Renderer) WithCJKFonts(paths ...string) *Renderer {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cjkPaths, r.cjk, r.cjkTried = paths, nil, false
	return r
}

// CanDrawChinese reports whether a "zh" chart gets Chinese labels.
func (r *Renderer) CanDrawChinese() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chinese() != nil
}

// chinese returns the CJK faces, loading them once; r.mu is held.
func (r *Renderer) chinese() *faces {
	if r.cjkTried {
		return r.cjk
	}
	r.cjkTried = true
	for _, path := range r.cjkPaths {
		if f, err := loadCJK(path); err == nil {
			r.cjk = f
			break
		}
	}
	return r.cjk
}

// loadCJK parses the font (or the first font of the collection) at path
// and checks it has Chinese glyphs.
func loadCJK(path string) (*faces, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The first font of a collection, copied out with its tables aligned
	// (standalone): the parser refuses some distributions' fonts as they
	// are.
	one, err := standalone(data, 0)
	if err != nil {
		return nil, fmt.Errorf("charts: read %s: %w", path, err)
	}
	f, err := opentype.Parse(one)
	if err != nil {
		return nil, fmt.Errorf("charts: parse %s: %w", path, err)
	}
	mk := func(size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	var fs faces
	for _, x := range []struct {
		face *font.Face
		size float64
	}{{&fs.regular, 13}, {&fs.bold, 16}, {&fs.small, 11}} {
		if *x.face, err = mk(x.size); err != nil {
			return nil, fmt.Errorf("charts: font face of %s: %w", path, err)
		}
	}
	for _, ch := range labelsZH.waiting + labelsZH.filed + labelsZH.decision + labelsZH.noData + labelsZH.bottleneck {
		if _, ok := fs.regular.GlyphAdvance(ch); !ok {
			return nil, fmt.Errorf("charts: %s has no glyph for %q", path, ch)
		}
	}
	return &fs, nil
}

// HealthPNG draws h as a PNG of Width × Height pixels.
func (r *Renderer) HealthPNG(h Health) ([]byte, error) {
	img, err := r.HealthImage(h)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("charts: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// HealthImage draws h.
func (r *Renderer) HealthImage(h Health) (*image.RGBA, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fs, l := r.f, labelsEN
	if h.Lang == "zh" {
		if cjk := r.chinese(); cjk != nil {
			fs, l = *cjk, labelsZH
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	c := &canvas{img: img, f: fs, l: l}
	c.text(fs.bold, 16, 24, ink, h.Title)

	filed := make([]float64, len(h.Weeks))
	median := make([]float64, len(h.Weeks))
	for i, w := range h.Weeks {
		filed[i], median[i] = float64(w.Filed), w.Median
	}
	c.bars(image.Rect(16, 40, Width-16, 190), l.filed, h.Weeks, filed, blue, func(x float64) string { return strconv.Itoa(int(x)) })
	c.bars(image.Rect(16, 200, Width-16, 350), l.decision, h.Weeks, median, orange, func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) })
	c.steps(image.Rect(16, 362, Width-16, Height-8), h.Steps, h.Bottleneck)
	return img, nil
}

type canvas struct {
	img *image.RGBA
	f   faces
	l   labels
}

func (c *canvas) fill(r image.Rectangle, col color.Color) {
	draw.Draw(c.img, r.Intersect(c.img.Bounds()), image.NewUniform(col), image.Point{}, draw.Src)
}

// text draws s with its baseline at (x, y).
func (c *canvas) text(face font.Face, x, y int, col color.Color, s string) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textWidth is the width of s in face, in pixels.
func textWidth(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

// bars draws one bar per week in r, with a title, the top value and every
// fourth week's date.
func (c *canvas) bars(r image.Rectangle, title string, weeks []Week, vals []float64, col color.Color, label func(float64) string) {
	c.text(c.f.regular, r.Min.X, r.Min.Y+14, ink, title)
	plot := image.Rect(r.Min.X+40, r.Min.Y+24, r.Max.X, r.Max.Y-18)
	var top float64
	for _, v := range vals {
		top = max(top, v)
	}
	// Gridlines at the top and the middle, the axis at the bottom.
	c.fill(image.Rect(plot.Min.X, plot.Min.Y, plot.Max.X, plot.Min.Y+1), light)
	c.fill(image.Rect(plot.Min.X, (plot.Min.Y+plot.Max.Y)/2, plot.Max.X, (plot.Min.Y+plot.Max.Y)/2+1), light)
	c.fill(image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), grey)
	c.text(c.f.small, r.Min.X, plot.Min.Y+4, grey, label(top))
	c.text(c.f.small, r.Min.X, plot.Max.Y+4, grey, "0")
	if len(vals) == 0 {
		c.text(c.f.regular, plot.Min.X+8, (plot.Min.Y+plot.Max.Y)/2-4, grey, c.l.noData)
		return
	}
	slot := plot.Dx() / len(vals)
	bw := max(slot*3/4, 1)
	for i, v := range vals {
		x := plot.Min.X + i*slot + (slot-bw)/2
		if top > 0 && v > 0 {
			hgt := max(int(v/top*float64(plot.Dy())), 1)
			c.fill(image.Rect(x, plot.Max.Y-hgt, x+bw, plot.Max.Y), col)
		}
		if i%4 == 0 || len(vals) <= 10 {
			c.text(c.f.small, x, plot.Max.Y+14, grey, weeks[i].Start.Format("01-02"))
		}
	}
}

// steps draws each step's share of the waiting time as a horizontal bar,
// the bottleneck in red with its share and median wait beside it.
func (c *canvas) steps(r image.Rectangle, steps []Step, bottleneck string) {
	c.text(c.f.regular, r.Min.X, r.Min.Y+14, ink, c.l.waiting)
	if len(steps) == 0 {
		c.text(c.f.regular, r.Min.X+8, r.Min.Y+40, grey, c.l.noData)
		return
	}
	const labelW = 150
	row := min((r.Dy()-24)/len(steps), 26)
	for i, st := range steps {
		y := r.Min.Y + 24 + i*row
		col := calm
		if st.ID == bottleneck {
			col = red
		}
		name := clip(c.f.regular, st.ID, labelW-8)
		c.text(c.f.regular, r.Min.X, y+row-8, ink, name)
		x0 := r.Min.X + labelW
		full := r.Max.X - x0 - 200
		w := int(min(max(st.Share, 0), 1) * float64(full))
		c.fill(image.Rect(x0, y+3, x0+full, y+row-3), light)
		if w > 0 {
			c.fill(image.Rect(x0, y+3, x0+w, y+row-3), col)
		}
		note := fmt.Sprintf("%.0f%% · %s %s", 100*st.Share, strconv.FormatFloat(st.Median, 'f', 1, 64), c.l.days)
		face, ink2 := c.f.regular, ink
		if st.ID == bottleneck {
			note += "  " + c.l.bottleneck
			face, ink2 = c.f.bold, red
		}
		c.text(face, x0+full+8, y+row-8, ink2, note)
	}
}

// clip shortens s with "…" to fit w pixels.
func clip(face font.Face, s string, w int) string {
	if textWidth(face, s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && textWidth(face, string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
