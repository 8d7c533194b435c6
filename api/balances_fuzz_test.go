package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/flowbot/flowbot/api"
)

// FuzzBalances: any filter or body gets 200 or a clean 400/403, never a
// panic or a 500.
func FuzzBalances(f *testing.F) {
	b := setup(f, func(c *api.Config) { c.RatePerSecond, c.Burst = 1e9, 1e9 })
	admin := b.token(f, "wangzong", 0, "admin")
	f.Add("tom", "annual", "2026", `{"balances":[{"user":"tom","type":"annual","year":2026,"total":10}]}`)
	f.Add("' OR 1=1 --", "x y", "-1", `{"balances":[{"user":"ghost","type":"a","year":1,"total":-1,"used":1e309}]}`)
	f.Add("", "", "", `{"balances":null}`)
	f.Fuzz(func(t *testing.T, user, typ, year, body string) {
		q := url.Values{}
		for k, v := range map[string]string{"user": user, "type": typ, "year": year} {
			if v != "" {
				q.Set(k, v)
			}
		}
		for _, r := range []resp{
			b.do(t, "GET", "/api/v1/directory/balances?"+q.Encode(), admin, nil),
			b.do(t, "PUT", "/api/v1/directory/balances", admin, body),
		} {
			switch r.Code {
			case http.StatusOK:
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
				if c := r.errCode(t); c != "invalid" && c != "too_large" {
					t.Fatalf("%d with code %s", r.Code, c)
				}
			default:
				t.Fatalf("status %d: %s", r.Code, r.Body)
			}
		}
	})
}
