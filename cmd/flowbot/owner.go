package main

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"time"
)

// ServerConfig names this process among the replicas sharing a database.
type ServerConfig struct {
	// Instance is this replica's name, the same at every restart of it and
	// different from every other replica running at once. Outbox claims
	// and event holds are tagged with it, and a restarted replica frees at
	// start what its killed predecessor held. Empty: the host name and
	// http.addr ("host/127.0.0.1:8080").
	Instance string `yaml:"instance"`
}

// owner is this process: its instance and this run of it.
type owner struct {
	instance string
	run      string
}

// newOwner names this run: the configured (or derived) instance and a
// random run id, new at every start.
func newOwner(cfg Config) owner {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return owner{
		instance: cmp.Or(cfg.Server.Instance, host+"/"+cfg.HTTP.Addr),
		run:      strconv.FormatInt(time.Now().Unix(), 10) + "-" + hex.EncodeToString(b[:]),
	}
}
