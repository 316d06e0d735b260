package kv

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Binary safety over REST.
//
// Upstash's REST API takes a command as a JSON array of strings (and
// numbers). JSON strings are Unicode text: a Go string holding bytes that
// are not valid UTF-8 cannot be written into one without loss (encoding/json
// turns each bad byte into U+FFFD). Upstash documents no request-side byte
// encoding (Upstash-Encoding: base64 only encodes replies), and its
// raw-body form carries a single value per command only.
//
// So arguments that are valid UTF-8 (the overwhelmingly common case: keys
// and JSON values) travel as they are, and a command with any other
// argument is sent as EVAL of rest_call.lua with those arguments
// hex-encoded: the script decodes them inside the store and runs the
// command with redis.pcall, so Redis sees the caller's exact bytes and the
// reply is unchanged. Still one round trip, about twice the bytes for the
// encoded arguments. Run does the same with rest_prelude.lua put in front
// of the caller's script. Limits, all far from what this service sends:
// integer replies pass through Lua numbers (exact up to 2^53), a command
// can have at most a few thousand words (Lua's unpack), and script commands
// (EVAL, EVALSHA, FCALL, ...) given to Do or Pipeline with such arguments
// are refused with ErrInvalidArg: use Run.

var (
	//go:embed rest_call.lua
	restCallFile string
	//go:embed rest_prelude.lua
	restPreludeFile string

	// The scripts as sent: without their header comments, which would
	// otherwise travel with every binary command.
	restCallSrc    = stripLuaComments(restCallFile)
	restPreludeSrc = stripLuaComments(restPreludeFile)
)

// stripLuaComments drops whole-line "--" comments (the file headers).
func stripLuaComments(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// restWire returns the words to send for one command.
func restWire(args []string) ([]string, error) {
	binary := false
	for _, a := range args {
		if !utf8.ValidString(a) {
			binary = true
			break
		}
	}
	if !binary {
		return args, nil
	}
	switch cmdName(args) {
	case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT", "FUNCTION", "MULTI", "EXEC":
		return nil, fmt.Errorf("%w: the REST transport cannot send a non-UTF-8 argument to %s; use Run", ErrInvalidArg, cmdName(args))
	}
	wire := make([]string, 0, len(args)+4)
	wire = append(wire, "EVAL", restCallSrc, "0", "")
	mask := make([]byte, len(args))
	for i, a := range args {
		if utf8.ValidString(a) {
			mask[i] = '0'
			wire = append(wire, a)
		} else {
			mask[i] = '1'
			wire = append(wire, hex.EncodeToString([]byte(a)))
		}
	}
	wire[3] = string(mask)
	return wire, nil
}

// hexMask encodes the non-UTF-8 strings of list in place and returns the
// mask, or "" when every string is valid UTF-8 (nothing to do).
func hexMask(list []string) (string, bool) {
	var mask []byte
	for i, a := range list {
		if utf8.ValidString(a) {
			continue
		}
		if mask == nil {
			mask = []byte(strings.Repeat("0", len(list)))
		}
		mask[i] = '1'
		list[i] = hex.EncodeToString([]byte(a))
	}
	return string(mask), mask != nil
}

// wrappedScripts caches the prelude-wrapped version of each script, keyed by
// the original SHA, so the wrapped SHA is computed once per script.
var wrappedScripts sync.Map // string -> *Script

// restBinaryRun rewrites a Run whose keys or arguments are not all valid
// UTF-8 into a Run of the prelude-wrapped script. ok is false when no
// rewrite is needed.
func restBinaryRun(s *Script, keys []string, args []any) (*Script, []string, []any, bool, error) {
	sargs := make([]string, len(args))
	for i, a := range args {
		v, ok := argString(a)
		if !ok {
			return nil, nil, nil, false, fmt.Errorf("%w: argument %d has unsupported type %T", ErrInvalidArg, i, a)
		}
		sargs[i] = v
	}
	k2 := append([]string(nil), keys...)
	kmask, kb := hexMask(k2)
	amask, ab := hexMask(sargs)
	if !kb && !ab {
		return s, keys, args, false, nil
	}
	if kmask == "" {
		kmask = strings.Repeat("0", len(keys))
	}
	if amask == "" {
		amask = strings.Repeat("0", len(sargs))
	}
	a2 := make([]any, 0, len(sargs)+2)
	a2 = append(a2, kmask, amask)
	for _, a := range sargs {
		a2 = append(a2, a)
	}
	return wrapScript(s), k2, a2, true, nil
}

func wrapScript(s *Script) *Script {
	if w, ok := wrappedScripts.Load(s.SHA()); ok {
		return w.(*Script)
	}
	src := s.Source()
	head := ""
	if strings.HasPrefix(src, "#!") { // Redis 7 shebang must stay on line 1
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			head, src = src[:i+1], src[i+1:]
		} else {
			head, src = src+"\n", ""
		}
	}
	w := NewScript(head + restPreludeSrc + src)
	wrappedScripts.Store(s.SHA(), w)
	return w
}

// appendCommand appends one command as a JSON array of strings. Every word
// is valid UTF-8 here (restWire made sure), so bytes >= 0x80 are copied as
// they are and only quotes, backslashes and control bytes are escaped.
func appendCommand(b []byte, words []string) []byte {
	b = append(b, '[')
	for i, w := range words {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, w)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
