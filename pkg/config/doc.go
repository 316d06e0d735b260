// Package config reads the service's configuration from the environment,
// once per process, into a plain Config struct.
//
// Load checks every variable of the SPEC's configuration table and either
// returns a complete Config or an error naming each bad variable on one
// line ("config: SESSION_IDLE_TIMEOUT: \"abc\" is not a Go duration ...").
// The process should print that line and exit: a service that starts with a
// half-understood configuration fails later, in stranger ways.
//
// Secrets never leave the package in text: error lines do not quote them,
// and printing a Config (fmt, log/slog, encoding/json) shows "set", "unset"
// or "generated" in their place, and signing keys as their public kid.
//
// Keys: SESSION_JWT_PRIVATE_KEY and SESSION_ENCRYPTION_KEY are required when
// VERCEL_ENV is set. Elsewhere (local development, tests) missing ones are
// generated at start, listed in Config.GeneratedKeys, and reported by
// Warnings so the server can log them: such keys die with the process, so
// every token issued before a restart becomes invalid.
//
// The KV store's variables (KV_REST_API_URL, REDIS_URL, ...) are read by
// package kv, which owns the choice of transport.
package config
