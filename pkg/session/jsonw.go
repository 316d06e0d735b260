package session

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/sessionkit/sessiond/internal/jsonenc"
)

// A JSON writer for the hot paths: the script argument of every
// introspection and refresh, and the introspection answer. It appends to a
// byte slice instead of walking types by reflection, and writes exactly
// the bytes encoding/json would for the same struct (field order, escaping,
// number formats, map keys sorted): jsonw_test.go checks that on generated
// and fuzzed values, so the scripts and the clients see no difference.

// errJSONValue is what encoding/json refuses: a NaN or infinite float.
var errJSONValue = errors.New("session: unsupported JSON value (NaN or infinity)")

// jsonAppender is a script argument that encodes itself (see run).
type jsonAppender interface {
	appendJSON(w *jw)
}

// jw builds one JSON value. Keys are our own constant ASCII names, written
// as is; values are escaped.
type jw struct {
	b     []byte
	comma bool // a member was written in the current object or array
	err   error
}

func (w *jw) open() { w.b = append(w.b, '{'); w.comma = false }

func (w *jw) close() { w.b = append(w.b, '}'); w.comma = true }

func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = true
}

// array writes "k":[...], each element written by elem.
func array[T any](w *jw, k string, items []T, elem func(*T, *jw)) {
	w.key(k)
	w.b = append(w.b, '[')
	for i := range items {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		elem(&items[i], w)
	}
	w.b = append(w.b, ']')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = jsonenc.AppendString(w.b, v)
}

// strOmit is a string field tagged omitempty.
func (w *jw) strOmit(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) uint(k string, v uint64) {
	w.key(k)
	w.b = strconv.AppendUint(w.b, v, 10)
}

func (w *jw) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) float(k string, v float64) {
	w.key(k)
	w.floatValue(v)
}

func (w *jw) floatValue(v float64) {
	var err error
	w.b, err = appendJSONFloat(w.b, v)
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *jw) floatObject(m map[string]float64, keys []string) {
	w.b = append(w.b, '{')
	for i, mk := range keys {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = jsonenc.AppendString(w.b, mk)
		w.b = append(w.b, ':')
		w.floatValue(m[mk])
	}
	w.b = append(w.b, '}')
}

// floatMapCache remembers the encoding of the last map floatMapJSON
// wrote (in practice DeviceWeights, sent with every refresh): checking
// that a map still holds exactly the same entries is a few map lookups,
// sorting and formatting it again is not.
type floatMapCache struct {
	keys []string
	bits []uint64 // math.Float64bits of each value: -0 and 0 encode differently
	enc  []byte   // the encoded object
}

var lastFloatMap atomic.Pointer[floatMapCache]

func (c *floatMapCache) matches(m map[string]float64) bool {
	if len(m) != len(c.keys) {
		return false
	}
	for i, k := range c.keys {
		v, ok := m[k]
		if !ok || math.Float64bits(v) != c.bits[i] {
			return false
		}
	}
	return true
}

// floatMapJSON is the JSON object of m (keys sorted), reusing the last
// encoding when m holds the same entries. The result is shared by every
// caller: never modify it.
func floatMapJSON(m map[string]float64) ([]byte, error) {
	if c := lastFloatMap.Load(); c != nil && c.matches(m) {
		return c.enc, nil
	}
	keys := sortedKeys(m)
	w := jw{}
	w.floatObject(m, keys)
	if w.err != nil {
		return nil, w.err
	}
	c := &floatMapCache{keys: keys, bits: make([]uint64, len(keys)), enc: w.b}
	for i, mk := range keys {
		c.bits[i] = math.Float64bits(m[mk])
	}
	lastFloatMap.Store(c)
	return c.enc, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONFloat formats a float64 as encoding/json does: the shortest
// decimal that reads back exactly, in exponent form below 1e-6 and from
// 1e21 on (with a one-digit exponent written without a leading zero).
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errJSONValue
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// "1e-07" -> "1e-7"
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
