package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body accepted (SPEC: 413 above
// 64 KiB). Vercel's own limit (4.5 MB) is far above it.
const MaxBodyBytes = 64 << 10

// maxJSONDepth bounds the nesting of a JSON body. Our bodies are at most
// three levels deep; anything much deeper is an attack on the parser.
const maxJSONDepth = 32

// bodyKind says how a request body was sent.
type bodyKind int

const (
	bodyEmpty bodyKind = iota // no body at all (or zero bytes)
	bodyJSON                  // application/json
	bodyForm                  // application/x-www-form-urlencoded
)

const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// readBody checks the Content-Type and reads the body, at most MaxBodyBytes.
// Form bodies are accepted only when allowForm (refresh, revoke, introspect).
// A body without a Content-Type is refused (415), an empty one is bodyEmpty
// whatever its type. The bytes returned are valid UTF-8.
func readBody(w http.ResponseWriter, r *http.Request, allowForm bool) (bodyKind, []byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return 0, nil, tooLarge()
	}
	kind := bodyEmpty
	if ct := r.Header.Get("Content-Type"); ct != "" {
		k, err := mediaKind(ct, allowForm)
		if err != nil {
			return 0, nil, err
		}
		kind = k
	}
	if r.Body == nil || r.Body == http.NoBody {
		return bodyEmpty, nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return 0, nil, tooLarge()
		}
		return 0, nil, badRequest("the request body could not be read")
	}
	if len(body) == 0 {
		return bodyEmpty, nil, nil
	}
	if kind == bodyEmpty {
		return 0, nil, unsupportedMedia(allowForm)
	}
	if !utf8.Valid(body) {
		return 0, nil, badRequest("the request body is not valid UTF-8")
	}
	return kind, body, nil
}

func tooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodePayloadTooLarge,
		Description: "the request body is larger than 64 KiB"}
}

func unsupportedMedia(allowForm bool) *Error {
	d := "send the body as application/json"
	if allowForm {
		d = "send the body as application/json or application/x-www-form-urlencoded"
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType, Description: d}
}

// mediaKind parses a Content-Type header. A charset other than UTF-8 is
// refused: we would have to transcode, and JSON is UTF-8 (RFC 8259 §8.1).
func mediaKind(ct string, allowForm bool) (bodyKind, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, unsupportedMedia(allowForm)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType,
			Description: "only the UTF-8 charset is accepted"}
	}
	switch {
	case mt == mediaJSON:
		return bodyJSON, nil
	case mt == mediaForm && allowForm:
		return bodyForm, nil
	}
	return 0, unsupportedMedia(allowForm)
}

// decodeJSON decodes a JSON object into dst (a pointer to a struct). Unknown
// fields are ignored; a field of the wrong type is a 400 that names it; the
// body must be exactly one object, nested at most maxJSONDepth deep.
func decodeJSON(body []byte, dst any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return badRequest("the request body must be a JSON object")
	}
	if jsonDepth(body) > maxJSONDepth {
		return badRequest("the JSON body is nested too deeply")
	}
	// A body that is exactly one well-typed value decodes in one call; both
	// paths accept the same bodies, and anything else goes through the
	// Decoder, which tells trailing data apart from bad JSON.
	if json.Unmarshal(body, dst) == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, reflect.TypeOf(dst))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns a decoding error into a 400 that says what is wrong
// without echoing the input.
func jsonError(err error, dst reflect.Type) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		if isMapField(dst, te.Field) {
			return badRequest("%s values must be %s", te.Field, jsonTypeName(te.Type.Kind().String()))
		}
		return badRequest("%s must be %s", te.Field, jsonTypeName(te.Type.Kind().String()))
	case errors.As(err, &se):
		return badRequest("malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("malformed JSON: unexpected end of body")
	}
	return badRequest("malformed JSON")
}

// isMapField reports whether the JSON path (dotted, as UnmarshalTypeError
// gives it) names a map field of t: then the type error is about one of its
// values, not the map itself.
func isMapField(t reflect.Type, path string) bool {
	for _, name := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return false
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == name || (tag == "" && f.Name == name) {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return false
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Map
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a value of another type"
	}
	return "a number"
}

// jsonDepth returns the deepest nesting of objects and arrays in b, reading
// past strings. It does not validate: the decoder does that afterwards.
func jsonDepth(b []byte) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				max = depth
			}
		case '}', ']':
			depth--
		}
	}
	return max
}

// form is a parsed application/x-www-form-urlencoded body in which every
// parameter appears at most once.
type form map[string]string

// parseForm parses a form body. RFC 6749 §3.1: "Request and response
// parameters MUST NOT be included more than once", so a repeated parameter
// is refused rather than one of its values picked. Decoded values must be
// valid UTF-8 (percent-encoding can smuggle any byte).
func parseForm(body []byte) (form, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("malformed form body")
	}
	f := make(form, len(vals))
	for k, vs := range vals {
		if !utf8.ValidString(k) {
			return nil, badRequest("form parameter names must be valid UTF-8")
		}
		if len(vs) > 1 {
			return nil, badRequest("form parameter %q is repeated", printable(k))
		}
		if !utf8.ValidString(vs[0]) {
			return nil, badRequest("form parameter %q is not valid UTF-8", printable(k))
		}
		f[k] = vs[0]
	}
	return f, nil
}

// printable shortens a client-chosen name for an error text and keeps
// control characters out of it.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}
