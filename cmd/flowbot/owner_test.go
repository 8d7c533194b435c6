package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOwnerStableInstanceNewRun: a replica keeps its instance across
// restarts (configured, or host name and address) and gets a new run at
// every start, so that it frees only its own dead run's claims.
func TestOwnerStableInstanceNewRun(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "0.0.0.0:8081"
	first, second := newOwner(cfg), newOwner(cfg)
	require.Equal(t, host+"/0.0.0.0:8081", first.instance, "default: host name and http.addr")
	require.Equal(t, first.instance, second.instance, "the same at every start")
	require.NotEqual(t, first.run, second.run, "a new run at every start")
	cfg.Server.Instance = "approvals-1"
	require.Equal(t, "approvals-1", newOwner(cfg).instance, "server.instance wins")
}
