package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/sqlite"
)

// FuzzRoundTrip feeds arbitrary strings and bytes through the places where
// the store encodes and decodes (instance rows, the user JSON columns and
// platform index, state values): each either round-trips exactly or is
// refused with an error that changes nothing; nothing panics.
func FuzzRoundTrip(f *testing.F) {
	f.Add("LEAVE-20261126-0001", "alice", []byte(`{"days":3}`), "feishu", "ou_1", "A@b.C", "conv:alice", []byte("step"))
	f.Add("", "李雷", []byte{}, "feishu:cli_a1", "x\x00y", "", "k", []byte(nil))
	f.Add("n\xff", "\xfe", []byte("not json"), "\xff", "id", "É@x", "\x00", []byte{0, 1, 2})
	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), sqlite.WithLogger(quiet))
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })

	f.Fuzz(func(t *testing.T, number, who string, form []byte, platform, platformID, email, key string, val []byte) {
		ctx := context.Background()
		t0 := time.UnixMilli(1_790_000_000_123).UTC()

		in := &flows.Instance{Number: number, FlowID: "leave", Applicant: who, Status: flows.StatusPending,
			Form: form, CreatedAt: t0, UpdatedAt: t0}
		err := db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(in) })
		if number != "" && errors.Is(err, flows.ErrConflict) {
			// The fuzzer reused a number: refused, as it must be.
		} else {
			require.NoError(t, err)
			require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
				got, err := tx.Instance(in.ID)
				require.NoError(t, err)
				require.Equal(t, number, got.Number)
				require.Equal(t, who, got.Applicant)
				require.True(t, bytes.Equal(form, got.Form) || len(form) == 0 && len(got.Form) == 0, "form %q came back as %q", form, got.Form)
				require.True(t, t0.Equal(got.CreatedAt))
				return nil
			}))
		}

		u := &flows.User{ID: "u1", Name: who, Email: email, Roles: []string{who}, Platforms: map[string]string{platform: platformID}}
		before, err := db.Users(ctx)
		require.NoError(t, err)
		err = db.ReplaceDirectory(ctx, []*flows.User{u}, nil)
		valid := platform != "" && platformID != "" && utf8.ValidString(platform) && utf8.ValidString(platformID) && utf8.ValidString(who)
		if !valid {
			require.Error(t, err)
			after, err := db.Users(ctx)
			require.NoError(t, err)
			require.Equal(t, before, after, "a refused directory changes nothing")
		} else {
			require.NoError(t, err)
			got, err := db.UserByPlatform(ctx, platform, platformID)
			require.NoError(t, err)
			require.Equal(t, u, got)
			if email != "" && utf8.ValidString(email) {
				got, err = db.UserByEmail(ctx, email)
				require.NoError(t, err)
				require.Equal(t, "u1", got.ID)
			}
		}

		s := db.StateStore()
		err = s.Set(ctx, key, val, time.Hour)
		if key == "" {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		got, ok, err := s.Get(ctx, key)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, bytes.Equal(val, got) || len(val) == 0 && len(got) == 0, "value %q came back as %q", val, got)
	})
}
