package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
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
			var fe *Error
			if errors.As(err, &fe) && fe.Code == CodeNotFound {
				fe = Errorf(CodeInvalid, fe.Key, fe.Args) // a bad entry of the body, not a missing resource
				return fe
			}
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

// Balance events: Data {type, year, days}.
const (
	EvBalanceUsed     EventType = "balance_used"     // an approved request took days
	EvBalanceRestored EventType = "balance_restored" // a cancelled request gave them back
)

// balanceLookup reads one balance; ErrNotFound when there is none.
type balanceLookup func(user, typ string, year int) (*Balance, error)

func (e *Engine) storeBalance(ctx context.Context) balanceLookup {
	return func(user, typ string, year int) (*Balance, error) {
		bs, err := e.store.Balances(ctx, BalanceFilter{User: user, Type: typ, Year: year, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(bs) == 0 {
			return nil, ErrNotFound
		}
		return bs[0], nil
	}
}

// balanceYear is the year a request's days count in: the year of its
// first day, or the filing year in the applicant's time zone.
func (e *Engine) balanceYear(u flowdef.BalanceUse, applicant *User, now time.Time) int {
	if u.Year != 0 {
		return u.Year
	}
	return now.In(e.userLoc(applicant)).Year()
}

// withBalance sets `balance(type)` of env to the applicant's days left of
// that type in the year of the request (0 when there is none).
func (e *Engine) withBalance(env map[string]any, look balanceLookup, def *flowdef.Definition, applicant *User, form flowdef.Values, now time.Time) {
	if def.Field("balance") != nil {
		return // a form field named balance hides the function
	}
	// The year is worked out on the first call only: most conditions
	// never call balance(), and the zone lookup is not free.
	year := 0
	env["balance"] = flowdef.BalanceFunc(func(typ string) float64 {
		if year == 0 {
			use, _ := def.BalanceUse(form, e.cal)
			year = e.balanceYear(use, applicant, now)
		}
		b, err := look(applicant.ID, typ, year)
		if err != nil {
			return 0
		}
		return b.Left()
	})
}

// BalanceLeft is what the applicant has left of the leave type the form
// chose, for the chat to show while filing: ok is false when the flow has
// no balance rule, the form has no type yet, or there is no balance row.
// Days is what the form would take (0 until the days are known).
func (e *Engine) BalanceLeft(ctx context.Context, def *flowdef.Definition, applicant string, form flowdef.Values) (b *Balance, days float64, ok bool, err error) {
	if def == nil || def.Balance == nil {
		return nil, 0, false, nil
	}
	u, err := e.user(e.reads(ctx), applicant)
	if err != nil {
		return nil, 0, false, err
	}
	use, hasDays := def.BalanceUse(form, e.cal)
	if !hasDays {
		tf := def.Field(def.Balance.TypeField)
		if tf == nil {
			return nil, 0, false, nil
		}
		use.Type, _ = form[tf.ID].(string)
		if use.Type == "" {
			return nil, 0, false, nil
		}
	}
	b, err = e.storeBalance(ctx)(u.ID, use.Type, e.balanceYear(use, u, e.clock.Now()))
	if errors.Is(err, ErrNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("read balance of %s: %w", u.ID, err)
	}
	return b, use.Days, true, nil
}

// checkBalanceAtFiling refuses a request whose flow's balance.require is
// false, saying what is left and what the request takes. A request whose
// type has no balance row for the applicant is not counted, so not checked.
func (e *Engine) checkBalanceAtFiling(o *op, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	if def.Balance == nil || def.Balance.Require == "" {
		return nil
	}
	use, ok := def.BalanceUse(form, e.cal)
	if !ok {
		return nil
	}
	b, err := o.tx.Balance(applicant.ID, use.Type, e.balanceYear(use, applicant, o.now))
	if errors.Is(err, ErrNotFound) {
		return nil // no balance of this type: not counted
	}
	if err != nil {
		return fmt.Errorf("read balance of %s: %w", applicant.ID, err)
	}
	env := def.EnvOn(form, applicantEnv(applicant), e.cal)
	look := func(user, typ string, year int) (*Balance, error) { return o.tx.Balance(user, typ, year) }
	e.withBalance(env, look, def, applicant, form, o.now)
	ok, err = def.Balance.Requires(env)
	if err != nil {
		return fmt.Errorf("evaluate balance.require of flow %s: %w", def.ID, err)
	}
	if ok {
		return nil
	}
	return Errorf(CodeInvalid, "balance_short", map[string]any{
		"type": optionLabel(def, def.Balance.TypeField, use.Type), "left": fmtDays(b.Left()), "days": fmtDays(use.Days)})
}

// optionLabel is the label of value in select field id (the value when unknown).
func optionLabel(def *flowdef.Definition, id, value string) flowdef.Text {
	if f := def.Field(id); f != nil {
		for _, o := range f.Options {
			if o.Value == value {
				return o.Label
			}
		}
	}
	return flowdef.Text{ZH: value, EN: value}
}

// fmtDays writes days as 5 or 2.5.
func fmtDays(d float64) string { return strconv.FormatFloat(d, 'f', -1, 64) }

// useBalanceOnApproval takes an approved request's days from its
// balance, in the approval's transaction. A type without a balance row is
// not counted.
func (e *Engine) useBalanceOnApproval(o *op, in *Instance, def *flowdef.Definition, applicant *User, form flowdef.Values) error {
	use, ok := def.BalanceUse(form, e.cal)
	if !ok {
		return nil
	}
	year := e.balanceYear(use, applicant, in.CreatedAt)
	err := o.tx.UseBalance(applicant.ID, use.Type, year, use.Days, o.now)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("use balance of %s: %w", in.Number, err)
	}
	return o.event(in, nil, EvBalanceUsed, System, true, map[string]any{"type": use.Type, "year": year, "days": use.Days})
}

// restoreBalance gives back what target took (its balance_used events not
// yet restored), in the cancellation's transaction.
func (e *Engine) restoreBalance(o *op, target *Instance) error {
	evs, err := o.tx.EventsOf(target.ID)
	if err != nil {
		return fmt.Errorf("read events of %s: %w", target.Number, err)
	}
	type key struct {
		typ  string
		year int
	}
	owed := map[key]float64{}
	var order []key
	for _, ev := range evs {
		if ev.Type != EvBalanceUsed && ev.Type != EvBalanceRestored {
			continue
		}
		var d struct {
			Type string  `json:"type"`
			Year int     `json:"year"`
			Days float64 `json:"days"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return fmt.Errorf("read balance event %d of %s: %w", ev.ID, target.Number, err)
		}
		k := key{d.Type, d.Year}
		if _, seen := owed[k]; !seen {
			order = append(order, k)
		}
		if ev.Type == EvBalanceUsed {
			owed[k] += d.Days
		} else {
			owed[k] -= d.Days
		}
	}
	for _, k := range order {
		days := owed[k]
		if days <= 0 {
			continue
		}
		err := o.tx.UseBalance(target.Applicant, k.typ, k.year, -days, o.now)
		if errors.Is(err, ErrNotFound) {
			continue // the balance row was removed since: nothing to give back to
		}
		if err != nil {
			return fmt.Errorf("restore balance of %s: %w", target.Number, err)
		}
		if err := o.event(target, nil, EvBalanceRestored, System, true, map[string]any{"type": k.typ, "year": k.year, "days": days}); err != nil {
			return err
		}
	}
	return nil
}
