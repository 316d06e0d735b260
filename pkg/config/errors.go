package config

import (
	"errors"
	"strings"
)

// VarError reports one bad configuration variable. Its text is one line,
// "config: NAME: reason", and never contains the value of a secret (keys,
// passwords, bearer secrets); values of other variables are quoted, cut to
// 64 bytes, so the line says exactly what was wrong.
type VarError struct {
	Name   string // the environment variable, e.g. "SESSION_IDLE_TIMEOUT"
	Reason string // what is wrong with it
}

func (e *VarError) Error() string { return "config: " + e.Name + ": " + e.Reason }

// loadError is what Load returns when several variables are bad: all of
// them on one line, so a deploy log shows everything to fix at once.
// errors.As finds the first *VarError; Unwrap gives them all.
type loadError struct{ errs []error }

func (e *loadError) Error() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = err.Error()
		if i > 0 {
			parts[i] = strings.TrimPrefix(parts[i], "config: ")
		}
	}
	return strings.Join(parts, "; ")
}

func (e *loadError) Unwrap() []error { return e.errs }

// joinErrors returns nil, the single error, or a loadError.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &loadError{errs: errs}
}

// Names returns the variable of every *VarError in err, in order (for
// tests and for tools that want to highlight the bad fields).
func Names(err error) []string {
	var out []string
	var le *loadError
	if errors.As(err, &le) {
		for _, e := range le.errs {
			out = append(out, Names(e)...)
		}
		return out
	}
	var ve *VarError
	if errors.As(err, &ve) {
		out = append(out, ve.Name)
	}
	return out
}
