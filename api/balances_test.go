package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

func (b *testBundle) balances(tb testing.TB) map[string][2]float64 {
	tb.Helper()
	bs, err := b.store.Balances(context.Background(), flows.BalanceFilter{})
	require.NoError(tb, err)
	out := map[string][2]float64{}
	for _, x := range bs {
		out[x.User+"/"+x.Type] = [2]float64{x.Total, x.Used}
	}
	return out
}

func balanceBody(entries ...map[string]any) map[string]any {
	return map[string]any{"balances": entries}
}

func TestBalancesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token(t, "wangzong", 0, "admin", "read")
	svcAdmin := b.token(t, "", 0, "admin")
	put := b.do(t, "PUT", "/api/v1/directory/balances", admin, balanceBody(
		map[string]any{"user": "hanmeimei", "type": "annual", "year": 2026, "total": 10},
		map[string]any{"user": "zhangwei", "type": "annual", "year": 2026, "total": 5, "used": 3},
	))
	require.Equal(t, http.StatusOK, put.Code, "%s", put.Body)
	require.Equal(t, float64(2), put.json(t)["written"])
	require.Equal(t, map[string][2]float64{"hanmeimei/annual": {10, 0}, "zhangwei/annual": {5, 3}}, b.balances(t))

	// A service token with the admin scope may set them too; used omitted keeps used.
	put = b.do(t, "PUT", "/api/v1/directory/balances", svcAdmin, balanceBody(map[string]any{"user": "zhangwei", "type": "annual", "year": 2026, "total": 6}))
	require.Equal(t, http.StatusOK, put.Code, "%s", put.Body)
	require.Equal(t, [2]float64{6, 3}, b.balances(t)["zhangwei/annual"])

	tests := []struct {
		name   string
		secret string
		query  string
		want   []string // user/left
	}{
		{"admin sees all", admin, "", []string{"hanmeimei/10", "zhangwei/3"}},
		{"admin filters by user", admin, "?user=zhangwei&year=2026&type=annual", []string{"zhangwei/3"}},
		{"a user sees their own", b.token(t, "zhangwei", 0, "read"), "", []string{"zhangwei/3"}},
		{"a user asking for their own by name", b.token(t, "zhangwei", 0, "read"), "?user=zhangwei", []string{"zhangwei/3"}},
		{"a user without balances sees none", b.token(t, "tom", 0, "read"), "", nil},
		{"service token sees all", b.token(t, "", 0, "read"), "", []string{"hanmeimei/10", "zhangwei/3"}},
		{"another year", admin, "?year=2027", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "GET", "/api/v1/directory/balances"+tc.query, tc.secret, nil)
			require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
			var got []string
			for _, x := range r.json(t)["balances"].([]any) {
				m := x.(map[string]any)
				got = append(got, m["user"].(string)+"/"+jsonNum(m["left"]))
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func jsonNum(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Bad balance calls are refused with the right status and change nothing.
func TestBalancesAPIRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token(t, "wangzong", 0, "admin", "read")
	require.Equal(t, http.StatusOK, b.do(t, "PUT", "/api/v1/directory/balances", admin, balanceBody(
		map[string]any{"user": "zhangwei", "type": "annual", "year": 2026, "total": 5, "used": 3})).Code)
	before := b.balances(t)
	good := map[string]any{"user": "tom", "type": "annual", "year": 2026, "total": 10}
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = good
	}
	tests := []struct {
		name, method, path, secret string
		body                       any
		status                     int
		code                       string
	}{
		{"no token", "GET", "/api/v1/directory/balances", "", nil, 401, "unauthorized"},
		{"no token writes", "PUT", "/api/v1/directory/balances", "", balanceBody(good), 401, "unauthorized"},
		{"read scope writes", "PUT", "/api/v1/directory/balances", b.token(t, "", 0, "read"), balanceBody(good), 403, "forbidden"},
		{"write scope writes", "PUT", "/api/v1/directory/balances", b.token(t, "wangzong", 0, "write"), balanceBody(good), 403, "forbidden"},
		{"employee with admin scope", "PUT", "/api/v1/directory/balances", b.token(t, "zhangwei", 0, "admin"), balanceBody(good), 403, "forbidden"},
		{"employee reads another's", "GET", "/api/v1/directory/balances?user=zhangwei", b.token(t, "tom", 0, "read"), nil, 403, "forbidden"},
		{"unknown user", "PUT", "/api/v1/directory/balances", admin, balanceBody(good, map[string]any{"user": "ghost", "type": "annual", "year": 2026, "total": 1}), 400, "invalid"},
		{"negative total", "PUT", "/api/v1/directory/balances", admin, balanceBody(good, map[string]any{"user": "tom", "type": "sick", "year": 2026, "total": -1}), 400, "invalid"},
		{"too many days", "PUT", "/api/v1/directory/balances", admin, balanceBody(map[string]any{"user": "tom", "type": "annual", "year": 2026, "total": 1e300}), 400, "invalid"},
		{"used negative", "PUT", "/api/v1/directory/balances", admin, balanceBody(map[string]any{"user": "tom", "type": "annual", "year": 2026, "total": 1, "used": -2}), 400, "invalid"},
		{"year out of range", "PUT", "/api/v1/directory/balances", admin, balanceBody(map[string]any{"user": "tom", "type": "annual", "year": 99999, "total": 1}), 400, "invalid"},
		{"type with spaces", "PUT", "/api/v1/directory/balances", admin, balanceBody(map[string]any{"user": "tom", "type": "an nual", "year": 2026, "total": 1}), 400, "invalid"},
		{"SQL in user", "PUT", "/api/v1/directory/balances", admin, balanceBody(map[string]any{"user": "' OR 1=1; --", "type": "annual", "year": 2026, "total": 1}), 400, "invalid"},
		{"wrong type of total", "PUT", "/api/v1/directory/balances", admin, `{"balances":[{"user":"tom","type":"annual","year":2026,"total":"ten"}]}`, 400, "invalid"},
		{"unknown field", "PUT", "/api/v1/directory/balances", admin, `{"balances":[{"user":"tom","type":"annual","year":2026,"total":1,"left":1}]}`, 400, "invalid"},
		{"empty list", "PUT", "/api/v1/directory/balances", admin, balanceBody(), 400, "invalid"},
		{"too many entries", "PUT", "/api/v1/directory/balances", admin, map[string]any{"balances": many}, 400, "invalid"},
		{"malformed JSON", "PUT", "/api/v1/directory/balances", admin, `{"balances":[`, 400, "invalid"},
		{"oversized body", "PUT", "/api/v1/directory/balances", admin, `{"balances":[],"x":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large"},
		{"query on PUT", "PUT", "/api/v1/directory/balances?user=tom", admin, balanceBody(good), 400, "invalid"},
		{"SQL in filter", "GET", "/api/v1/directory/balances?user=%27%20OR%201%3D1", admin, nil, 400, "invalid"},
		{"bad year filter", "GET", "/api/v1/directory/balances?year=20x6", admin, nil, 400, "invalid"},
		{"unknown filter", "GET", "/api/v1/directory/balances?left=1", admin, nil, 400, "invalid"},
		{"repeated filter", "GET", "/api/v1/directory/balances?year=2026&year=2027", admin, nil, 400, "invalid"},
		{"huge filter", "GET", "/api/v1/directory/balances?type=" + strings.Repeat("a", 5000), admin, nil, 400, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, tc.method, tc.path, tc.secret, tc.body)
			require.Equal(t, tc.status, r.Code, "%s", r.Body)
			require.Equal(t, tc.code, r.errCode(t))
			require.Equal(t, before, b.balances(t), "a refused call changes nothing")
		})
	}
}
