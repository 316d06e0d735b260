package kv

import (
	"crypto/sha1"
	"encoding/hex"
)

// Script is a Lua script with its SHA1, ready for EVALSHA. Build scripts
// once (package variables or init) and reuse them: the hash is computed in
// NewScript only.
type Script struct {
	src string
	sha string
}

// NewScript returns a Script for the given Lua source.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: src, sha: hex.EncodeToString(sum[:])}
}

// Source returns the script's Lua source.
func (s *Script) Source() string { return s.src }

// SHA returns the hex SHA1 of the source, as EVALSHA wants it.
func (s *Script) SHA() string { return s.sha }
