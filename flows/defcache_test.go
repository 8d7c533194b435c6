package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// TestLatestFlowCacheFollowsChanges: Submit takes the latest version of a
// flow from memory; a version published or a flow deleted through the
// engine is followed by the next submit at once, through another engine
// over the same database (a replica) within flows.Recheck, and in between
// a submit starts the version that was the latest, which exists.
func TestLatestFlowCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	replica := flows.New(flows.Config{Store: b.store, Clock: b.clock})
	v2 := seqYAML + "description: {zh: 第二版, en: second}\n"
	v3 := seqYAML + "description: {zh: 第三版, en: third}\n"
	steps := []struct {
		name    string
		change  func(t *testing.T)
		wait    bool // wait flows.Recheck before submitting
		version int  // 0: the flow cannot be started; -1: 2 or 3 (the replica's v3 may not be seen yet)
	}{
		{"First", func(*testing.T) {}, false, 1},
		{"PublishedHere", func(t *testing.T) { publish(t, b.engine, v2) }, false, 2},
		{"PublishedOnReplica", func(t *testing.T) { publish(t, replica, v3) }, false, -1},
		{"PublishedOnReplicaAfterRecheck", func(*testing.T) {}, true, 3},
		{"DeletedHere", func(t *testing.T) { require.NoError(t, b.engine.DeleteFlow(b.ctx, "seq")) }, false, 0},
		{"RepublishedOnReplica", func(t *testing.T) { publish(t, replica, seqYAML) }, true, 4},
		{"DeletedOnReplica", func(t *testing.T) { require.NoError(t, replica.DeleteFlow(b.ctx, "seq")) }, true, 0},
	}
	for _, s := range steps {
		s.change(t)
		if s.wait {
			time.Sleep(flows.Recheck + 50*time.Millisecond)
		}
		out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "seq", Values: map[string]any{"note": s.name}})
		switch s.version {
		case 0:
			require.Equal(t, flows.CodeNotFound, flows.ErrorCode(err), "%s: a deleted flow cannot be started", s.name)
		case -1:
			require.NoError(t, err, s.name)
			require.Contains(t, []int{2, 3}, out.Instance.FlowVersion, s.name)
		default:
			require.NoError(t, err, s.name)
			require.Equal(t, s.version, out.Instance.FlowVersion, s.name)
		}
	}
}

func publish(t *testing.T, e *flows.Engine, src string) {
	t.Helper()
	_, _, err := e.PublishFlow(t.Context(), "seq.yaml", []byte(src))
	require.NoError(t, err)
}
