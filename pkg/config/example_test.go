package config_test

import (
	"fmt"
	"strings"

	"github.com/sessionkit/sessiond/pkg/config"
)

func ExampleLoad() {
	env := map[string]string{
		"SESSION_IDLE_TIMEOUT":    "2h",
		"SESSION_ALLOWED_ORIGINS": "https://App.Example.com/, http://localhost:5173",
		"SESSION_ADMIN_KEY":       "a-long-random-admin-secret",
		"PORT":                    "8080",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err) // one line; the process exits
		return
	}
	fmt.Println(cfg.Addr, cfg.IdleTimeout, cfg.AbsoluteTimeout, cfg.AllowedOrigins)
	fmt.Println(cfg.GeneratedKeys)
	for _, w := range cfg.Warnings() {
		fmt.Println("warning:", w)
	}
	// Output:
	// 127.0.0.1:8080 2h0m0s 168h0m0s [https://app.example.com http://localhost:5173]
	// [SESSION_JWT_PRIVATE_KEY SESSION_ENCRYPTION_KEY]
	// warning: SESSION_JWT_PRIVATE_KEY is not set: generated a random one for this process (development only; tokens will not survive a restart)
	// warning: SESSION_ENCRYPTION_KEY is not set: generated a random one for this process (development only; tokens will not survive a restart)
}

func ExampleLoad_errors() {
	env := map[string]string{
		"SESSION_IDLE_TIMEOUT": "abc",
		"SESSION_ADMIN_KEY":    "hunter2",
		"VERCEL_ENV":           "production",
	}
	_, err := config.Load(func(k string) string { return env[k] })
	fmt.Println(err)
	fmt.Println(config.Names(err))
	// Output:
	// config: SESSION_JWT_PRIVATE_KEY: required when VERCEL_ENV is set (generate one with: openssl genpkey -algorithm ed25519); SESSION_ENCRYPTION_KEY: required when VERCEL_ENV is set (generate one with: openssl rand -base64 32); SESSION_IDLE_TIMEOUT: "abc" is not a Go duration (e.g. 90s, 15m, 24h); SESSION_ADMIN_KEY: shorter than 16 bytes; use a long random value (e.g. openssl rand -base64 32)
	// [SESSION_JWT_PRIVATE_KEY SESSION_ENCRYPTION_KEY SESSION_IDLE_TIMEOUT SESSION_ADMIN_KEY]
}

func ExampleConfig_String() {
	cfg, _ := config.Load(func(k string) string {
		return map[string]string{"CRON_SECRET": "cron-secret-0123456789", "SESSION_COOKIE_MODE": "1"}[k]
	})
	s := cfg.String()
	fmt.Println(strings.Contains(s, `CRON_SECRET="set"`), strings.Contains(s, "cron-secret-0123456789"), strings.Contains(s, `SESSION_COOKIE_MODE="true"`))
	// Output: true false true
}
