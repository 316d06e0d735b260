package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Device is a browser or app fingerprint as the client reports it. Every
// field is optional; unknown JSON fields are ignored, and a known field with
// the wrong JSON type is refused (DecodeDevice). Nothing here is proof of
// anything: a fingerprint only raises or lowers the risk score of a refresh.
type Device struct {
	UserAgent           string   `json:"user_agent,omitempty"`
	Platform            string   `json:"platform,omitempty"`
	OS                  string   `json:"os,omitempty"`
	OSVersion           string   `json:"os_version,omitempty"`
	Browser             string   `json:"browser,omitempty"`
	BrowserVersion      string   `json:"browser_version,omitempty"`
	DeviceType          string   `json:"device_type,omitempty"`
	DeviceVendor        string   `json:"device_vendor,omitempty"`
	DeviceModel         string   `json:"device_model,omitempty"`
	Language            string   `json:"language,omitempty"`
	Languages           []string `json:"languages,omitempty"`
	Timezone            string   `json:"timezone,omitempty"`
	TimezoneOffset      *int     `json:"timezone_offset,omitempty"`
	ScreenWidth         *int     `json:"screen_width,omitempty"`
	ScreenHeight        *int     `json:"screen_height,omitempty"`
	ColorDepth          *int     `json:"color_depth,omitempty"`
	PixelRatio          *float64 `json:"pixel_ratio,omitempty"`
	HardwareConcurrency *int     `json:"hardware_concurrency,omitempty"`
	DeviceMemory        *float64 `json:"device_memory,omitempty"`
	TouchPoints         *int     `json:"touch_points,omitempty"`
	CookiesEnabled      *bool    `json:"cookies_enabled,omitempty"`
	DoNotTrack          *bool    `json:"do_not_track,omitempty"`
	WebGLVendor         string   `json:"webgl_vendor,omitempty"`
	WebGLRenderer       string   `json:"webgl_renderer,omitempty"`
	CanvasHash          string   `json:"canvas_hash,omitempty"`
	AudioHash           string   `json:"audio_hash,omitempty"`
	FontsHash           string   `json:"fonts_hash,omitempty"`
}

// Limits on a fingerprint, so a client cannot make us store or compare
// arbitrary amounts of data.
const (
	maxDeviceString    = 512
	maxDeviceLanguages = 32
)

// ErrDevice is wrapped by every DecodeDevice error.
var ErrDevice = errors.New("session: invalid device")

// DecodeDevice parses a device fingerprint from JSON. Unknown fields are
// ignored; a known field of the wrong type, an over-long string or a
// non-object is an error wrapping ErrDevice that names the field. A JSON
// null yields (nil, nil).
func DecodeDevice(data []byte) (*Device, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: device must be a JSON object", ErrDevice)
	}
	var d Device
	if err := json.Unmarshal(data, &d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("%w: %s must be a JSON %s", ErrDevice, te.Field, jsonKind(te.Type.Kind().String()))
		}
		return nil, fmt.Errorf("%w: malformed JSON", ErrDevice)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice":
		return "array of strings"
	case "ptr":
		return "number or boolean"
	}
	return "number"
}

// Validate checks the limits a decoded Device must respect.
func (d *Device) Validate() error {
	if d == nil {
		return nil
	}
	for _, f := range d.strings() {
		if len(f.val) > maxDeviceString {
			return fmt.Errorf("%w: %s is longer than %d bytes", ErrDevice, f.name, maxDeviceString)
		}
	}
	if len(d.Languages) > maxDeviceLanguages {
		return fmt.Errorf("%w: languages has more than %d entries", ErrDevice, maxDeviceLanguages)
	}
	for _, l := range d.Languages {
		if len(l) > 64 {
			return fmt.Errorf("%w: languages entry longer than 64 bytes", ErrDevice)
		}
	}
	for _, f := range [...]struct {
		name string
		v    *float64
	}{{"pixel_ratio", d.PixelRatio}, {"device_memory", d.DeviceMemory}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0) || *f.v < 0 || *f.v > 1e6) {
			return fmt.Errorf("%w: %s is out of range", ErrDevice, f.name)
		}
	}
	return nil
}

// namedString is one string field of a Device with its JSON name.
type namedString struct{ name, val string }

// strings lists the Device's string fields in declaration order (an array,
// not a map: no allocation, and Validate names the first bad field).
func (d *Device) strings() [16]namedString {
	return [16]namedString{
		{"user_agent", d.UserAgent}, {"platform", d.Platform}, {"os", d.OS}, {"os_version", d.OSVersion},
		{"browser", d.Browser}, {"browser_version", d.BrowserVersion}, {"device_type", d.DeviceType},
		{"device_vendor", d.DeviceVendor}, {"device_model", d.DeviceModel}, {"language", d.Language},
		{"timezone", d.Timezone}, {"webgl_vendor", d.WebGLVendor}, {"webgl_renderer", d.WebGLRenderer},
		{"canvas_hash", d.CanvasHash}, {"audio_hash", d.AudioHash}, {"fonts_hash", d.FontsHash},
	}
}

// Features flattens the fingerprint into normalized field -> value strings,
// the form stored with the session and compared by the refresh script (and
// by Similarity, its Go twin). Absent fields are left out.
func (d *Device) Features() map[string]string {
	f := map[string]string{}
	if d == nil {
		return f
	}
	for i := range featureFields {
		if v, ok := featureFields[i].get(d); ok {
			f[featureFields[i].name] = v
		}
	}
	return f
}

// DeviceWeights says how much each fingerprint field counts when two
// fingerprints are compared. Stable, hard-to-fake, identifying fields weigh
// most (canvas/audio/WebGL renderer hashes, screen geometry); fields that
// change on their own (browser version after an update, language) weigh
// least, so an update does not look like a new device.
var DeviceWeights = map[string]float64{
	"canvas_hash": 3, "webgl_renderer": 3, "audio_hash": 2, "fonts_hash": 2, "webgl_vendor": 2,
	"user_agent": 1, "platform": 2, "os": 2, "browser": 2, "device_type": 2, "device_vendor": 1.5,
	"device_model": 2, "screen_width": 1.5, "screen_height": 1.5, "color_depth": 1, "pixel_ratio": 1,
	"hardware_concurrency": 1, "device_memory": 1, "touch_points": 1, "timezone": 1, "timezone_offset": 0.5,
	"language": 0.5, "languages": 0.5, "os_version": 0.5, "browser_version": 0.25,
	"cookies_enabled": 0.25, "do_not_track": 0.25,
}

// Similarity compares two feature maps (see Features): the weighted share of
// the fields present in both that are equal, in [0, 1]. With no field in
// common it returns 1 and ok=false: nothing says the devices differ. The
// refresh script computes the same function in Lua (risk.lua); a test keeps
// the two in step.
func Similarity(a, b map[string]string) (sim float64, ok bool) {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys) // stable float summation order, same as the Lua twin
	var total, same float64
	for _, k := range keys {
		bv, in := b[k]
		w := DeviceWeights[k]
		if !in || w == 0 {
			continue
		}
		total += w
		if a[k] == bv {
			same += w
		}
	}
	if total == 0 {
		return 1, false
	}
	return same / total, true
}
