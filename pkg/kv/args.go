package kv

import (
	"fmt"
	"strconv"
	"strings"
)

// toArgs converts command arguments to the strings Redis receives, the same
// way for every transport, so that a value means the same bytes whichever
// transport carries it. The accepted types are those documented on
// Client.Do; anything else is ErrInvalidArg (no silent fmt.Sprint).
func toArgs(args []any) ([]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrInvalidArg)
	}
	out := make([]string, len(args))
	for i, a := range args {
		s, ok := argString(a)
		if !ok {
			return nil, fmt.Errorf("%w: argument %d has unsupported type %T", ErrInvalidArg, i, a)
		}
		out[i] = s
	}
	return out, nil
}

func argString(a any) (string, bool) {
	switch v := a.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case uint32:
		return strconv.FormatUint(uint64(v), 10), true
	case uint:
		return strconv.FormatUint(uint64(v), 10), true
	case float64:
		// 'f' with the shortest exact representation: what go-redis sends,
		// and what Redis parses back to the same float for ZADD scores.
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	}
	return "", false
}

// cmdName is the upper-cased first word of a command, for logs and tables.
func cmdName(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return strings.ToUpper(args[0])
}

// nativeArgs is toArgs for go-redis: the same conversions, into the []any
// it takes, in one allocation. Strings and byte slices pass as they are
// (go-redis writes both as the same bulk string; a []byte is not copied
// into a string first).
func nativeArgs(args []any) ([]any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrInvalidArg)
	}
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string, []byte:
			out[i] = v
			continue
		}
		s, ok := argString(a)
		if !ok {
			return nil, fmt.Errorf("%w: argument %d has unsupported type %T", ErrInvalidArg, i, a)
		}
		out[i] = s
	}
	return out, nil
}
