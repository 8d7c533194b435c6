package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/flowbot/flowbot/flows"
)

// maxBalancesPerCall bounds the entries of one PUT /directory/balances.
const maxBalancesPerCall = 1000

// parseBalanceFilter checks the query of GET /directory/balances.
func parseBalanceFilter(q url.Values) (flows.BalanceFilter, error) {
	var f flows.BalanceFilter
	for k, vs := range q {
		if len(vs) != 1 {
			return f, errInvalid("参数 "+k+" 只能出现一次。", "Parameter "+k+" may appear once.")
		}
		v := vs[0]
		switch k {
		case "user":
			if !idRe.MatchString(v) {
				return f, errInvalid("user 不是合法的用户 id。", "user is not a valid user id.")
			}
			f.User = v
		case "type":
			if !idRe.MatchString(v) || len(v) > 64 {
				return f, errInvalid("type 不是合法的假期类型。", "type is not a valid leave type.")
			}
			f.Type = v
		case "year":
			n, err := strconv.Atoi(v)
			if err != nil || n < flows.MinBalanceYear || n > flows.MaxBalanceYear {
				return f, errInvalid("year 须为 2000 到 2200 之间的年份。", "year must be a year from 2000 to 2200.")
			}
			f.Year = n
		default:
			return f, errInvalid("未知参数 "+k+"（可用 user、type、year）。", "Unknown parameter "+k+" (known: user, type, year).")
		}
	}
	return f, nil
}

// listBalances: a user token sees its own balances (admins, flow admins
// and auditors see all); a service token sees all.
func (s *Server) listBalances(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseBalanceFilter(r.URL.Query())
	if err != nil {
		return err
	}
	var bs []*flows.Balance
	if c.service() {
		bs, err = s.cfg.Queries.Balances(r.Context(), f)
	} else {
		bs, err = s.cfg.Engine.BalancesOf(r.Context(), c.user.ID, f)
	}
	if err != nil {
		return err
	}
	out := make([]balanceJSON, len(bs))
	for i, b := range bs {
		out[i] = balanceJSON{Balance: b, Left: b.Left()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"balances": out})
	return nil
}

type balanceJSON struct {
	*flows.Balance
	Left float64 `json:"left"`
}

type balancesBody struct {
	Balances []flows.BalanceUpdate `json:"balances"`
}

// putBalances sets balances (total, and used when given) in one
// transaction: one bad entry and nothing is written.
func (s *Server) putBalances(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := noParams(r); err != nil {
		return err
	}
	var b balancesBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if len(b.Balances) == 0 || len(b.Balances) > maxBalancesPerCall {
		return errInvalid("balances 须有 1 到 1000 条。", "balances must hold 1 to 1000 entries.")
	}
	for _, u := range b.Balances {
		if !idRe.MatchString(u.User) {
			return errInvalid("user 须为用户 id。", "user must be a user id.")
		}
	}
	actor := flows.System
	if c.user != nil {
		actor = c.user.ID
	}
	if err := s.cfg.Engine.SetBalances(r.Context(), actor, b.Balances); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"written": len(b.Balances)})
	return nil
}
