package webhooks_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/webhooks"
)

// A send-back to an earlier step is its own event type, apart from a
// return to the applicant and a rejection.
func TestTypeOfOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev   flows.Event
		want string
	}{
		{flows.Event{Type: flows.EvSentBack}, webhooks.RequestSentBack},
		{flows.Event{Type: flows.EvReturned}, webhooks.RequestReturned},
		{flows.Event{Type: flows.EvCompleted, Data: []byte(`{"status":"rejected"}`)}, webhooks.RequestRejected},
		{flows.Event{Type: flows.EvRejected, Data: []byte(`{"outcome":"send_back"}`)}, webhooks.TaskDecided},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, webhooks.TypeOf(&tc.ev), "%s", tc.ev.Type)
	}
	require.Contains(t, webhooks.AllTypes, webhooks.RequestSentBack)
}

func TestTypeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev   flows.Event
		want string
	}{
		{flows.Event{Type: flows.EvWithdrawn}, webhooks.RequestWithdrawn},
		{flows.Event{Type: flows.EvCancelled, Data: []byte(`{"by":"XJ-20261205-0001"}`)}, webhooks.RequestCancelled},
		{flows.Event{Type: flows.EvCompleted, Data: []byte(`{"status":"approved"}`)}, webhooks.RequestApproved},
		{flows.Event{Type: flows.EvBalanceUsed, Data: []byte(`{"type":"annual","year":2026,"days":3}`)}, ""},
		{flows.Event{Type: flows.EvBalanceRestored}, ""},
		{flows.Event{Type: flows.EvCompleted, Data: []byte(`{not json`)}, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.ev.Type), func(t *testing.T) {
			require.Equal(t, tc.want, webhooks.TypeOf(&tc.ev))
		})
	}
	require.Contains(t, webhooks.AllTypes, webhooks.RequestCancelled, "subscribable")
}
