package kv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Decoding Upstash REST replies sent with "Upstash-Encoding: base64".
//
// A single command answers {"result": v} or {"error": "msg"}; /pipeline
// answers a JSON array of those, one per command, in order. v is null, an
// integer, a string or an array of those (nested). With the base64 encoding
// every string is base64 (standard alphabet, padded) except the status
// reply "OK", which Upstash sends as it is; no base64 text is ever "OK"
// (its length is a multiple of 4), so the two cannot be confused. Integers
// and nulls are not encoded; error messages are not either.
//
// An error nested in an array is {"error": "msg"} in its place, decoded to
// a *RedisError value as the native transport does.
//
// The decoder is strict: anything else (a float, a boolean, another object,
// bad base64, an entry with neither field) is an error, which the
// transport reports as a TransportError: an answer it cannot read is not an
// answer.

var errMalformed = errors.New("malformed reply")

// decodeEntry decodes one {"result"|"error"} object. A nil result gives
// Result{Err: ErrNotFound}; an error gives Result{Err: *RedisError}.
func decodeEntry(raw []byte) (Result, error) {
	var obj map[string]json.RawMessage
	if err := strictUnmarshal(raw, &obj); err != nil {
		return Result{}, err
	}
	if obj == nil {
		return Result{}, fmt.Errorf("%w: not an object", errMalformed)
	}
	if e, ok := obj["error"]; ok && !isJSONNull(e) {
		var msg string
		if err := json.Unmarshal(e, &msg); err != nil {
			return Result{}, fmt.Errorf("%w: error is not a string", errMalformed)
		}
		return Result{Err: &RedisError{Msg: msg}}, nil
	}
	r, ok := obj["result"]
	if !ok {
		return Result{}, fmt.Errorf("%w: neither result nor error", errMalformed)
	}
	var v any
	if err := strictUnmarshal(r, &v); err != nil {
		return Result{}, err
	}
	val, err := decodeValue(v, 0)
	if err != nil {
		return Result{}, err
	}
	if val == nil {
		return Result{Err: ErrNotFound}, nil
	}
	return Result{Val: val}, nil
}

// decodePipeline decodes a /pipeline reply into one Result per entry.
func decodePipeline(body []byte) ([]Result, error) {
	var raws []json.RawMessage
	if err := strictUnmarshal(body, &raws); err != nil {
		return nil, err
	}
	if raws == nil {
		return nil, fmt.Errorf("%w: pipeline reply is not an array", errMalformed)
	}
	out := make([]Result, len(raws))
	for i, raw := range raws {
		r, err := decodeEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}

// maxDepth bounds nesting; Redis replies this service reads are two deep
// (XRANGE), and a hostile body must not drive unbounded recursion.
const maxDepth = 32

func decodeValue(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deep", errMalformed)
	}
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		if t == "OK" {
			return t, nil
		}
		b, err := base64.StdEncoding.Strict().DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("%w: string is not base64", errMalformed)
		}
		return string(b), nil
	case json.Number:
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: number %.40q is not a 64-bit integer", errMalformed, string(t))
		}
		return n, nil
	case map[string]any:
		// An error inside an array (a script returning a table that holds
		// an error table): {"error": "msg"}, as at the top level.
		msg, ok := t["error"].(string)
		if depth == 0 || len(t) != 1 || !ok {
			return nil, fmt.Errorf("%w: unexpected object", errMalformed)
		}
		return &RedisError{Msg: msg}, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			d, err := decodeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: unexpected %T value", errMalformed, v)
}

// strictUnmarshal decodes exactly one JSON value, numbers as json.Number,
// and refuses trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return fmt.Errorf("%w: trailing data", errMalformed)
	}
	return nil
}

func isJSONNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// errorField extracts the "error" string of a non-200 REST body, if any.
func errorField(body []byte) (string, bool) {
	var obj struct {
		Error *string `json:"error"`
	}
	if json.Unmarshal(body, &obj) != nil || obj.Error == nil {
		return "", false
	}
	return *obj.Error, true
}
