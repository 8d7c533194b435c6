package postgres_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// FuzzEventRoundTrip: any event data comes back byte for byte; text that
// PostgreSQL cannot store (NUL, invalid UTF-8) is refused with an error and
// writes nothing, never a panic.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("u1", []byte(`{"comment":"同意"}`))
	f.Add("bad\x00actor", []byte{0, 0xff})
	f.Add("\xc3\x28", []byte{})
	db := mustOpen(f)
	f.Fuzz(func(t *testing.T, actor string, data []byte) {
		ctx := t.Context()
		e := &flows.Event{InstanceID: 1, FlowID: "leave", Type: flows.EvCommented, Actor: actor, Data: data, At: t0}
		err := db.Update(ctx, func(tx flows.Tx) error { return tx.AppendEvent(e) })
		storable := utf8.ValidString(actor) && !bytes.ContainsRune([]byte(actor), 0)
		if !storable {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		got, err := db.Events(ctx, flows.EventFilter{AfterID: e.ID - 1, Limit: 1})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, actor, got[0].Actor)
		if len(data) == 0 {
			require.Empty(t, got[0].Data)
		} else {
			require.True(t, bytes.Equal(data, got[0].Data), "got %q, want %q", got[0].Data, data)
		}
	})
}
