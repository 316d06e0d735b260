package kv

import (
	"crypto/sha1"
	"encoding/hex"
	"sync"
)

// Script is a Lua script with its SHA1, ready for EVALSHA. Build scripts
// once (package variables or init) and reuse them. The source (for
// NewScriptFunc) and the hash are computed on first use, once: a process
// that runs one script does not pay at start for the others (a serverless
// function links every script of its package).
type Script struct {
	once  sync.Once
	build func() string
	src   string
	sha   string
}

// NewScript returns a Script for the given Lua source.
func NewScript(src string) *Script {
	return &Script{build: func() string { return src }}
}

// NewScriptFunc returns a Script whose source src returns, called once, on
// first use (Source, SHA or a Run).
func NewScriptFunc(src func() string) *Script {
	return &Script{build: src}
}

func (s *Script) init() {
	s.once.Do(func() {
		s.src = s.build()
		s.build = nil
		sum := sha1.Sum([]byte(s.src))
		s.sha = hex.EncodeToString(sum[:])
	})
}

// Source returns the script's Lua source.
func (s *Script) Source() string {
	s.init()
	return s.src
}

// SHA returns the hex SHA1 of the source, as EVALSHA wants it.
func (s *Script) SHA() string {
	s.init()
	return s.sha
}
