package flowstest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

var delegationTests = []test{
	{"RoundTrip", testDelegationRoundTrip},
	{"WhichAreListed", testDelegationsListed},
	{"ListedByDelegate", testDelegationsTo},
	{"EndUnknown", testEndDelegationUnknown},
	{"RolledBack", testDelegationRolledBack},
	{"ReadOnly", testDelegationReadOnly},
}

func newDelegation(from, to string, start, end time.Time) *flows.Delegation {
	return &flows.Delegation{From: from, To: to, Start: start, End: end, Source: "chat", CreatedBy: from, CreatedAt: T0}
}

func testDelegationRoundTrip(t *testing.T, b *bundle) {
	d := newDelegation("李雷", "赵敏", at(-time.Hour), at(48*time.Hour))
	d.Source = "request:LEAVE-20261126-0001"
	b.update(t, func(tx flows.Tx) error { return tx.SaveDelegation(d) })
	require.NotZero(t, d.ID)
	for name, read := range map[string]func() ([]*flows.Delegation, error){
		"Store": func() ([]*flows.Delegation, error) { return b.s.Delegations(b.ctx, "李雷", T0) },
		"Tx": func() (ds []*flows.Delegation, err error) {
			err = b.s.View(b.ctx, func(tx flows.Tx) error { ds, err = tx.DelegationsOf("李雷", T0); return err })
			return ds, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ds, err := read()
			require.NoError(t, err)
			require.Len(t, ds, 1)
			got := ds[0]
			require.Equal(t, d.ID, got.ID)
			require.Equal(t, "李雷", got.From)
			require.Equal(t, "赵敏", got.To)
			require.True(t, got.Start.Equal(d.Start), "start %v, want %v", got.Start, d.Start)
			require.True(t, got.End.Equal(d.End), "end %v, want %v", got.End, d.End)
			require.True(t, got.CreatedAt.Equal(T0))
			require.Equal(t, d.Source, got.Source)
			require.Equal(t, "李雷", got.CreatedBy)
			require.Nil(t, got.EndedAt)
		})
	}
}

func testDelegationsListed(t *testing.T, b *bundle) {
	past := newDelegation("lilei", "a", at(-72*time.Hour), at(-24*time.Hour))
	now := newDelegation("lilei", "b", at(-time.Hour), at(24*time.Hour))
	later := newDelegation("lilei", "c", at(24*time.Hour), at(72*time.Hour))
	ended := newDelegation("lilei", "d", at(-time.Hour), at(24*time.Hour))
	other := newDelegation("hanmeimei", "e", at(-time.Hour), at(24*time.Hour))
	b.update(t, func(tx flows.Tx) error {
		for _, d := range []*flows.Delegation{past, now, later, ended, other} {
			if err := tx.SaveDelegation(d); err != nil {
				return err
			}
		}
		return tx.EndDelegation(ended.ID, T0)
	})
	ds, err := b.s.Delegations(b.ctx, "lilei", T0)
	require.NoError(t, err)
	var to []string
	for _, d := range ds {
		to = append(to, d.To)
	}
	require.Equal(t, []string{"b", "c"}, to, "ended early and past delegations are not listed; order by id")
	// At the end instant the delegation is over.
	ds, err = b.s.Delegations(b.ctx, "lilei", at(24*time.Hour))
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "c", ds[0].To)
}

func testDelegationsTo(t *testing.T, b *bundle) {
	past := newDelegation("lilei", "zhao", at(-72*time.Hour), at(-24*time.Hour))
	now := newDelegation("lilei", "zhao", at(-time.Hour), at(24*time.Hour))
	later := newDelegation("hanmeimei", "zhao", at(24*time.Hour), at(72*time.Hour))
	ended := newDelegation("wang", "zhao", at(-time.Hour), at(24*time.Hour))
	other := newDelegation("lilei", "qian", at(-time.Hour), at(24*time.Hour))
	b.update(t, func(tx flows.Tx) error {
		for _, d := range []*flows.Delegation{past, now, later, ended, other} {
			if err := tx.SaveDelegation(d); err != nil {
				return err
			}
		}
		return tx.EndDelegation(ended.ID, T0)
	})
	var ds []*flows.Delegation
	err := b.s.View(b.ctx, func(tx flows.Tx) error {
		var err error
		ds, err = tx.DelegationsTo("zhao", T0)
		return err
	})
	require.NoError(t, err)
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	require.Equal(t, []int64{now.ID, later.ID}, ids, "ended early and past delegations are not listed; order by id")
}

func testEndDelegationUnknown(t *testing.T, b *bundle) {
	err := b.s.Update(b.ctx, func(tx flows.Tx) error { return tx.EndDelegation(4242, T0) })
	require.ErrorIs(t, err, flows.ErrNotFound)
}

func testDelegationRolledBack(t *testing.T, b *bundle) {
	err := b.s.Update(b.ctx, func(tx flows.Tx) error {
		if err := tx.SaveDelegation(newDelegation("lilei", "b", at(-time.Hour), at(time.Hour))); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	ds, err := b.s.Delegations(b.ctx, "lilei", T0)
	require.NoError(t, err)
	require.Empty(t, ds)
}

func testDelegationReadOnly(t *testing.T, b *bundle) {
	err := b.s.View(b.ctx, func(tx flows.Tx) error {
		return tx.SaveDelegation(newDelegation("lilei", "b", at(-time.Hour), at(time.Hour)))
	})
	require.Error(t, err)
	ds, err := b.s.Delegations(b.ctx, "lilei", T0)
	require.NoError(t, err)
	require.Empty(t, ds)
}
