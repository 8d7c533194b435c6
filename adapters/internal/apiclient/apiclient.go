// Package apiclient owns the adapters' default HTTP client for their
// platform's API: every call of an app goes to one or two hosts and the
// notifier sends with several workers at once, so the client keeps that
// many connections idle for the next sends. With http.DefaultTransport
// (two idle connections per host) most sends dialled and closed a
// connection of their own.
package apiclient

import (
	"net/http"
	"time"
)

// MaxIdle is how many idle connections per host the client keeps.
const MaxIdle = 64

// New returns a client with the given timeout whose transport is the
// default one keeping MaxIdle idle connections per host.
func New(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, MaxIdle)
	t.MaxIdleConnsPerHost = MaxIdle
	return &http.Client{Timeout: timeout, Transport: t}
}
