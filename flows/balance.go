package flows

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Balance is one user's leave entitlement of one leave type for one
// calendar year: Total days granted, Used days taken by approved requests.
// The directory import and the API set Total (and may set Used when moving
// from another system); the engine moves Used when a request of a flow
// with a `balance` section is approved or cancelled.
type Balance struct {
	User      string    `json:"user"`
	Type      string    `json:"type"`
	Year      int       `json:"year"`
	Total     float64   `json:"total"`
	Used      float64   `json:"used"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Left is what remains of the balance (negative when overdrawn).
func (b *Balance) Left() float64 { return b.Total - b.Used }

// BalanceUpdate sets a balance: Total always, Used only when not nil (a
// new balance without Used starts at 0 used).
type BalanceUpdate struct {
	User  string   `json:"user" yaml:"user"`
	Type  string   `json:"type" yaml:"type"`
	Year  int      `json:"year" yaml:"year"`
	Total float64  `json:"total" yaml:"total"`
	Used  *float64 `json:"used,omitempty" yaml:"used"`
}

// BalanceFilter selects balances. Zero fields do not filter.
type BalanceFilter struct {
	User  string
	Type  string
	Year  int
	Limit int // 0 = 1000
}

// BalanceTx is what the engine needs from a transaction to keep balances.
type BalanceTx interface {
	// Balance returns user's balance of typ in year; ErrNotFound when none.
	Balance(user, typ string, year int) (*Balance, error)
	// UseBalance adds days to Used of that balance (negative days give
	// them back) and sets UpdatedAt; ErrNotFound when there is none.
	UseBalance(user, typ string, year int, days float64, at time.Time) error
}

// BalanceStore reads and sets balances outside a transaction.
type BalanceStore interface {
	// Balances lists balances ordered by user, year, type.
	Balances(ctx context.Context, f BalanceFilter) ([]*Balance, error)
	// UpsertBalances writes all of us in one transaction (any bad entry:
	// nothing is written), UpdatedAt = at.
	UpsertBalances(ctx context.Context, us []BalanceUpdate, at time.Time) error
}

// Bounds of a balance: a year between these, days between 0 and MaxBalanceDays.
const (
	MinBalanceYear = 2000
	MaxBalanceYear = 2200
	MaxBalanceDays = 366
)

// CheckBalanceUpdate reports what is wrong with u, in words for the
// admin (nil when it can be written). The user's existence is checked by
// the callers that know the directory.
func CheckBalanceUpdate(u BalanceUpdate) error {
	switch {
	case strings.TrimSpace(u.User) == "" || len(u.User) > 200:
		return Errorf(CodeInvalid, "balance_bad", map[string]any{"what": "user"})
	case strings.TrimSpace(u.Type) == "" || len(u.Type) > 64 || strings.ContainsAny(u.Type, " \t\r\n"):
		return Errorf(CodeInvalid, "balance_bad", map[string]any{"what": "type"})
	case u.Year < MinBalanceYear || u.Year > MaxBalanceYear:
		return Errorf(CodeInvalid, "balance_bad", map[string]any{"what": "year"})
	case !validDays(u.Total):
		return Errorf(CodeInvalid, "balance_bad", map[string]any{"what": "total"})
	case u.Used != nil && !validDays(*u.Used):
		return Errorf(CodeInvalid, "balance_bad", map[string]any{"what": "used"})
	}
	return nil
}

func validDays(d float64) bool {
	return !math.IsNaN(d) && !math.IsInf(d, 0) && d >= 0 && d <= MaxBalanceDays
}

// SetBalances checks and writes balance updates for actor (an admin or
// flow admin): every user must be in the directory; one bad entry and
// nothing is written.
func (e *Engine) SetBalances(ctx context.Context, actor string, us []BalanceUpdate) error {
	rd := e.reads(ctx)
	if actor != System {
		a, err := e.user(rd, actor)
		if err != nil {
			return err
		}
		if err := CanManage(a); err != nil {
			return err
		}
	}
	for _, u := range us {
		if err := CheckBalanceUpdate(u); err != nil {
			return err
		}
		if _, err := e.user(rd, u.User); err != nil {
			return err
		}
	}
	if err := e.store.UpsertBalances(ctx, us, e.clock.Now().UTC()); err != nil {
		return fmt.Errorf("set %d balances: %w", len(us), err)
	}
	return nil
}

// BalancesOf lists the balances actor may see: all of them (filtered by f)
// for admins, flow admins and auditors; otherwise only the actor's own.
func (e *Engine) BalancesOf(ctx context.Context, actor string, f BalanceFilter) ([]*Balance, error) {
	a, err := e.user(e.reads(ctx), actor)
	if err != nil {
		return nil, err
	}
	if CanManage(a) != nil && !a.HasRole(RoleAuditor) {
		if f.User != "" && f.User != a.ID {
			return nil, Errorf(CodeForbidden, "balance_not_yours", nil)
		}
		f.User = a.ID
	}
	bs, err := e.store.Balances(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list balances: %w", err)
	}
	return bs, nil
}
