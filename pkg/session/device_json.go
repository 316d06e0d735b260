package session

import (
	"strconv"
	"strings"

	"github.com/sessionkit/sessiond/internal/jsonenc"
)

// The two encodings of a fingerprint that every refresh and creation sends
// to its script, written without maps or reflection: a refresh spent more
// time building Features' maps and running encoding/json over them and over
// the Device than signing its access token. jsonw_test.go checks both
// against what encoding/json writes from Features and from the Device.

// featureFields are the fingerprint's features in sorted order, each with
// how to read its normalized value and whether it is present: the one
// definition behind Features and deviceFeaturesJSON.
var featureFields = [...]struct {
	name string
	get  func(*Device) (string, bool)
}{
	{"audio_hash", func(d *Device) (string, bool) { return featureString(d.AudioHash) }},
	{"browser", func(d *Device) (string, bool) { return featureString(d.Browser) }},
	{"browser_version", func(d *Device) (string, bool) { return featureString(d.BrowserVersion) }},
	{"canvas_hash", func(d *Device) (string, bool) { return featureString(d.CanvasHash) }},
	{"color_depth", func(d *Device) (string, bool) { return featureInt(d.ColorDepth) }},
	{"cookies_enabled", func(d *Device) (string, bool) { return featureBool(d.CookiesEnabled) }},
	{"device_memory", func(d *Device) (string, bool) { return featureFloat(d.DeviceMemory) }},
	{"device_model", func(d *Device) (string, bool) { return featureString(d.DeviceModel) }},
	{"device_type", func(d *Device) (string, bool) { return featureString(d.DeviceType) }},
	{"device_vendor", func(d *Device) (string, bool) { return featureString(d.DeviceVendor) }},
	{"do_not_track", func(d *Device) (string, bool) { return featureBool(d.DoNotTrack) }},
	{"fonts_hash", func(d *Device) (string, bool) { return featureString(d.FontsHash) }},
	{"hardware_concurrency", func(d *Device) (string, bool) { return featureInt(d.HardwareConcurrency) }},
	{"language", func(d *Device) (string, bool) { return featureString(d.Language) }},
	{"languages", func(d *Device) (string, bool) {
		if len(d.Languages) == 0 {
			return "", false
		}
		var b strings.Builder
		for i, l := range d.Languages {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.ToLower(strings.TrimSpace(l)))
		}
		return b.String(), true // present even when empty, as in Features
	}},
	{"os", func(d *Device) (string, bool) { return featureString(d.OS) }},
	{"os_version", func(d *Device) (string, bool) { return featureString(d.OSVersion) }},
	{"pixel_ratio", func(d *Device) (string, bool) { return featureFloat(d.PixelRatio) }},
	{"platform", func(d *Device) (string, bool) { return featureString(d.Platform) }},
	{"screen_height", func(d *Device) (string, bool) { return featureInt(d.ScreenHeight) }},
	{"screen_width", func(d *Device) (string, bool) { return featureInt(d.ScreenWidth) }},
	{"timezone", func(d *Device) (string, bool) { return featureString(d.Timezone) }},
	{"timezone_offset", func(d *Device) (string, bool) { return featureInt(d.TimezoneOffset) }},
	{"touch_points", func(d *Device) (string, bool) { return featureInt(d.TouchPoints) }},
	{"user_agent", func(d *Device) (string, bool) { return featureString(d.UserAgent) }},
	{"webgl_renderer", func(d *Device) (string, bool) { return featureString(d.WebGLRenderer) }},
	{"webgl_vendor", func(d *Device) (string, bool) { return featureString(d.WebGLVendor) }},
}

func featureString(s string) (string, bool) {
	v := strings.ToLower(strings.TrimSpace(s))
	return v, v != ""
}

func featureInt(p *int) (string, bool) {
	if p == nil {
		return "", false
	}
	return strconv.Itoa(*p), true
}

func featureFloat(p *float64) (string, bool) {
	if p == nil {
		return "", false
	}
	return strconv.FormatFloat(*p, 'g', 6, 64), true
}

func featureBool(p *bool) (string, bool) {
	if p == nil {
		return "", false
	}
	return strconv.FormatBool(*p), true
}

// deviceFeaturesJSON is the form a fingerprint is stored in and compared
// by: json.Marshal(d.Features()) (an object with sorted keys), "" when it
// has no feature, and whether any of its features weighs in Similarity.
func deviceFeaturesJSON(d *Device, weights map[string]float64) (string, bool) {
	if d == nil {
		return "", false
	}
	b := make([]byte, 0, 512)
	b = append(b, '{')
	n, weighted := 0, false
	for i := range featureFields {
		f := &featureFields[i]
		v, ok := f.get(d)
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = jsonenc.AppendString(b, f.name)
		b = append(b, ':')
		b = jsonenc.AppendString(b, v)
		if !weighted && weights[f.name] > 0 {
			weighted = true
		}
	}
	if n == 0 {
		return "", false
	}
	return string(append(b, '}')), weighted
}

// deviceJSON is json.Marshal(d): the device as the client sent it, known
// fields only, stored with the session for display. "" when encoding/json
// would fail (a NaN or infinite float, which Validate refuses anyway).
func deviceJSON(d *Device) string {
	if d == nil {
		return "null"
	}
	w := jw{b: make([]byte, 0, 512)}
	w.open()
	w.strOmit("user_agent", d.UserAgent)
	w.strOmit("platform", d.Platform)
	w.strOmit("os", d.OS)
	w.strOmit("os_version", d.OSVersion)
	w.strOmit("browser", d.Browser)
	w.strOmit("browser_version", d.BrowserVersion)
	w.strOmit("device_type", d.DeviceType)
	w.strOmit("device_vendor", d.DeviceVendor)
	w.strOmit("device_model", d.DeviceModel)
	w.strOmit("language", d.Language)
	if len(d.Languages) > 0 {
		w.key("languages")
		w.b = append(w.b, '[')
		for i, l := range d.Languages {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = jsonenc.AppendString(w.b, l)
		}
		w.b = append(w.b, ']')
	}
	w.strOmit("timezone", d.Timezone)
	intOmit(&w, "timezone_offset", d.TimezoneOffset)
	intOmit(&w, "screen_width", d.ScreenWidth)
	intOmit(&w, "screen_height", d.ScreenHeight)
	intOmit(&w, "color_depth", d.ColorDepth)
	if d.PixelRatio != nil {
		w.float("pixel_ratio", *d.PixelRatio)
	}
	intOmit(&w, "hardware_concurrency", d.HardwareConcurrency)
	if d.DeviceMemory != nil {
		w.float("device_memory", *d.DeviceMemory)
	}
	intOmit(&w, "touch_points", d.TouchPoints)
	if d.CookiesEnabled != nil {
		w.bool("cookies_enabled", *d.CookiesEnabled)
	}
	if d.DoNotTrack != nil {
		w.bool("do_not_track", *d.DoNotTrack)
	}
	w.strOmit("webgl_vendor", d.WebGLVendor)
	w.strOmit("webgl_renderer", d.WebGLRenderer)
	w.strOmit("canvas_hash", d.CanvasHash)
	w.strOmit("audio_hash", d.AudioHash)
	w.strOmit("fonts_hash", d.FontsHash)
	w.close()
	if w.err != nil {
		return ""
	}
	return string(w.b)
}

func intOmit(w *jw, k string, p *int) {
	if p != nil {
		w.int(k, int64(*p))
	}
}
