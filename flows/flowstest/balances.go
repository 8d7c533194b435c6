package flowstest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var balanceTests = []test{
	{"RoundTrip", testBalanceRoundTrip},
	{"UpsertKeepsUsed", testBalanceUpsertKeepsUsed},
	{"UseAndGiveBack", testBalanceUse},
	{"UseUnknown", testBalanceUseUnknown},
	{"ReadUnknown", testBalanceReadUnknown},
	{"RolledBack", testBalanceRolledBack},
	{"ReadOnly", testBalanceReadOnly},
	{"BadUpsertWritesNothing", testBalanceBadUpsert},
	{"Filters", testBalanceFilters},
}

func f64(v float64) *float64 { return &v }

func testBalanceRoundTrip(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{
		{User: "李雷", Type: "annual", Year: 2026, Total: 10, Used: f64(2.5)},
	}, T0))
	bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{User: "李雷"})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	got := bs[0]
	require.Equal(t, flows.Balance{User: "李雷", Type: "annual", Year: 2026, Total: 10, Used: 2.5, UpdatedAt: got.UpdatedAt}, *got)
	require.True(t, got.UpdatedAt.Equal(T0), "updated_at %v, want %v", got.UpdatedAt, T0)
	require.InDelta(t, 7.5, got.Left(), 1e-9)
	var inTx *flows.Balance
	require.NoError(t, b.s.View(b.ctx, func(tx flows.Tx) error { inTx, err = tx.Balance("李雷", "annual", 2026); return err }))
	require.Equal(t, 7.5, inTx.Left())
}

// An import that sets only the total keeps the days already taken.
func testBalanceUpsertKeepsUsed(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 5}}, T0))
	b.update(t, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, 3, T0) })
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 12}}, at(time.Hour)))
	bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{User: "u"})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Equal(t, 12.0, bs[0].Total)
	require.Equal(t, 3.0, bs[0].Used, "used survives an upsert without used")
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 12, Used: f64(0)}}, at(time.Hour)))
	bs, err = b.s.Balances(b.ctx, flows.BalanceFilter{User: "u"})
	require.NoError(t, err)
	require.Equal(t, 0.0, bs[0].Used, "an explicit used 0 resets it")
}

func testBalanceUse(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 5}}, T0))
	b.update(t, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, 4, at(time.Minute)) })
	b.update(t, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, 3, at(time.Minute)) })
	var got *flows.Balance
	b.update(t, func(tx flows.Tx) (err error) { got, err = tx.Balance("u", "annual", 2026); return err })
	require.Equal(t, 7.0, got.Used, "the store does not refuse an overdraft: the engine decides")
	require.Equal(t, -2.0, got.Left())
	b.update(t, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, -3, at(time.Minute)) })
	b.update(t, func(tx flows.Tx) (err error) { got, err = tx.Balance("u", "annual", 2026); return err })
	require.Equal(t, 4.0, got.Used)
	require.True(t, got.UpdatedAt.Equal(at(time.Minute)))
}

func testBalanceUseUnknown(t *testing.T, b *bundle) {
	err := b.s.Update(b.ctx, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, 1, T0) })
	require.ErrorIs(t, err, flows.ErrNotFound)
	bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{})
	require.NoError(t, err)
	require.Empty(t, bs, "using an unknown balance creates none")
}

func testBalanceReadUnknown(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 5}}, T0))
	for name, k := range map[string]struct {
		user, typ string
		year      int
	}{"user": {"v", "annual", 2026}, "type": {"u", "sick", 2026}, "year": {"u", "annual", 2027}} {
		t.Run(name, func(t *testing.T) {
			err := b.s.View(b.ctx, func(tx flows.Tx) error { _, err := tx.Balance(k.user, k.typ, k.year); return err })
			require.ErrorIs(t, err, flows.ErrNotFound)
		})
	}
}

func testBalanceRolledBack(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 5}}, T0))
	err := b.s.Update(b.ctx, func(tx flows.Tx) error {
		if err := tx.UseBalance("u", "annual", 2026, 2, T0); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{User: "u"})
	require.NoError(t, err)
	require.Equal(t, 0.0, bs[0].Used)
}

func testBalanceReadOnly(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{{User: "u", Type: "annual", Year: 2026, Total: 5}}, T0))
	err := b.s.View(b.ctx, func(tx flows.Tx) error { return tx.UseBalance("u", "annual", 2026, 2, T0) })
	require.Error(t, err)
	bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{User: "u"})
	require.NoError(t, err)
	require.Equal(t, 0.0, bs[0].Used)
}

func testBalanceBadUpsert(t *testing.T, b *bundle) {
	good := flows.BalanceUpdate{User: "u", Type: "annual", Year: 2026, Total: 5}
	for name, bad := range map[string]flows.BalanceUpdate{
		"no user":        {Type: "annual", Year: 2026, Total: 5},
		"no type":        {User: "u", Year: 2026, Total: 5},
		"space in type":  {User: "u", Type: "an nual", Year: 2026, Total: 5},
		"year too early": {User: "u", Type: "annual", Year: 1999, Total: 5},
		"year too late":  {User: "u", Type: "annual", Year: 20260, Total: 5},
		"negative total": {User: "u", Type: "annual", Year: 2026, Total: -1},
		"huge total":     {User: "u", Type: "annual", Year: 2026, Total: 1e9},
		"NaN total":      {User: "u", Type: "annual", Year: 2026, Total: math.NaN()},
		"Inf used":       {User: "u", Type: "annual", Year: 2026, Total: 5, Used: f64(math.Inf(1))},
		"negative used":  {User: "u", Type: "annual", Year: 2026, Total: 5, Used: f64(-1)},
	} {
		t.Run(name, func(t *testing.T) {
			err := b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{good, bad}, T0)
			require.Error(t, err)
			bs, err := b.s.Balances(b.ctx, flows.BalanceFilter{})
			require.NoError(t, err)
			require.Empty(t, bs, "one bad entry: nothing written")
		})
	}
}

func testBalanceFilters(t *testing.T, b *bundle) {
	require.NoError(t, b.s.UpsertBalances(b.ctx, []flows.BalanceUpdate{
		{User: "b", Type: "sick", Year: 2026, Total: 5},
		{User: "a", Type: "annual", Year: 2027, Total: 5},
		{User: "a", Type: "annual", Year: 2026, Total: 5},
		{User: "a", Type: "x';DROP/**/TABLE/**/balances;--", Year: 2026, Total: 1},
	}, T0))
	keys := func(f flows.BalanceFilter) []string {
		bs, err := b.s.Balances(b.ctx, f)
		require.NoError(t, err)
		var out []string
		for _, x := range bs {
			out = append(out, fmt.Sprintf("%s/%s/%d", x.User, x.Type, x.Year))
		}
		return out
	}
	require.Equal(t, []string{"a/annual/2026", "a/x';DROP/**/TABLE/**/balances;--/2026", "a/annual/2027", "b/sick/2026"}, keys(flows.BalanceFilter{}), "ordered by user, year, type")
	require.Equal(t, []string{"a/annual/2026", "a/annual/2027"}, keys(flows.BalanceFilter{User: "a", Type: "annual"}))
	require.Equal(t, []string{"a/annual/2026", "a/x';DROP/**/TABLE/**/balances;--/2026", "b/sick/2026"}, keys(flows.BalanceFilter{Year: 2026}))
	require.Equal(t, []string{"a/annual/2026"}, keys(flows.BalanceFilter{Year: 2026, Limit: 1}))
	require.Empty(t, keys(flows.BalanceFilter{User: "nobody"}))
}
